// Server: HTTP/1.1 on Boost.Beast with C++20 coroutines.
//
// Plumbing only — what a response says is the handler's business (routes.h).
// Per connection: one strand, a header timeout (ServerConfig::header_timeout)
// until each request's header is complete and a read timeout for its body, a
// body limit, a header limit, keep-alive, and a pipeline depth of one (the next
// pipelined request is read only after the previous response is written, so a
// client can never queue unbounded work; TCP applies back-pressure).
//
// Bounds (ServerConfig): at most max_connections open at once and
// max_connections_per_peer from one address; a connection past either is
// closed as soon as it is accepted. When the process runs out of descriptors
// (EMFILE/ENFILE) the accept loop frees a reserve descriptor to accept and
// close the waiting connection, then pauses (doubling from 10 ms to 1 s) before
// accepting again, so it never spins; its warnings are written at most once a
// second with the count held back.
//
// Framing (RFC 9112 §6.1): a Transfer-Encoding other than exactly "chunked" is
// answered 501 and the connection closed, so a body of unknown length is never
// read as the next request.
//
// Lifecycle: listen() binds; start() binds if not yet and accepts on `threads` I/O threads; stop() stops
// accepting, closes idle connections, lets in-flight requests finish and answers
// them with "Connection: close"; wait() returns when every connection is gone.
// stop() is safe from any thread (e.g. a signal handler's completion).
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/config.h"
#include "api/connection_limits.h"
#include "api/problem.h"
#include "api/routes.h"

namespace causeway::api {

using Handler = std::function<boost::asio::awaitable<Response>(Request)>;

// I/O threads when ServerConfig::io_threads is 0: one per core but one.
unsigned default_io_threads();

class Server {
 public:
  Server(const ServerConfig& cfg, Handler handler);
  ~Server();

  // Binds and starts the I/O threads. Returns the bound port.
  // Binds and listens (once), without accepting yet: the port, known before
  // serving (e.g. for the links in mail). start() calls it if it was not.
  Result<unsigned short> listen();
  Result<unsigned short> start();
  void stop();
  void wait();
  boost::asio::io_context& io() { return ioc_; }

 private:
  struct Conn;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> out_of_descriptors(const boost::system::error_code& ec,
                                                  std::chrono::milliseconds& pause);
  void admit(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> session(std::shared_ptr<Conn> conn);

  ServerConfig cfg_;
  Handler handler_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::mutex conns_mu_;
  std::unordered_map<std::uint64_t, std::weak_ptr<Conn>> conns_;
  std::uint64_t next_conn_ = 0;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  ConnectionLimits limits_;
  int reserve_fd_ = -1;  // kept open to be freed when descriptors run out
  unsigned short port_ = 0;  // once listening
  BoundedWarning accept_warning_{std::chrono::seconds(1)};
  BoundedWarning refusal_warning_{std::chrono::seconds(1)};
};

}  // namespace causeway::api
