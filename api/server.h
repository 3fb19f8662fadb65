// Server: HTTP/1.1 on Boost.Beast with C++20 coroutines.
//
// Plumbing only — what a response says is the handler's business (routes.h).
// Per connection: one strand, a read timeout before every read, a body limit, a
// header limit, keep-alive, and a pipeline depth of one (the next pipelined
// request is read only after the previous response is written, so a client can
// never queue unbounded work; TCP applies back-pressure).
//
// Lifecycle: start() binds and accepts on `threads` I/O threads; stop() stops
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
  Result<unsigned short> start();
  void stop();
  void wait();
  boost::asio::io_context& io() { return ioc_; }

 private:
  struct Conn;
  boost::asio::awaitable<void> accept_loop();
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
};

}  // namespace causeway::api
