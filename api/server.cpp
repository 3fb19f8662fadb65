#include "api/server.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

#include "api/log.h"

namespace causeway::api {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct Server::Conn {
  Conn(tcp::socket s, std::uint64_t i, std::unique_ptr<ConnectionLimits::Ticket> t)
      : stream(std::move(s)), id(i), ticket(std::move(t)) {}
  beast::tcp_stream stream;
  std::uint64_t id;
  std::unique_ptr<ConnectionLimits::Ticket> ticket;  // its place under the limits
  bool reading = false;  // touched only on the connection's strand
};

namespace {

std::size_t max_connections(const ServerConfig& cfg) {
  return cfg.max_connections ? cfg.max_connections : default_max_connections();
}

int open_reserve() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

bool out_of_fds(const boost::system::error_code& ec) {
  return ec == boost::system::errc::too_many_files_open || ec == boost::system::errc::too_many_files_open_in_system;
}

// RFC 9112 §6.1: the only transfer coding a request may use here is chunked,
// alone. Any other would leave the body's length unknown.
bool unsupported_transfer_coding(const http::request_parser<http::string_body>& parser) {
  const auto& h = parser.get();
  auto it = h.find(http::field::transfer_encoding);
  if (it == h.end()) return false;
  return h.count(http::field::transfer_encoding) > 1 || !beast::iequals(beast::string_view(it->value()), "chunked");
}

}  // namespace

Server::Server(const ServerConfig& cfg, Handler handler)
    : cfg_(cfg),
      handler_(std::move(handler)),
      acceptor_(asio::make_strand(ioc_)),
      limits_(max_connections(cfg), cfg.max_connections_per_peer),
      reserve_fd_(open_reserve()) {}

Server::~Server() {
  stop();
  wait();
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

unsigned default_io_threads() {
  // One core is left to the log writer and the CPU pool (argon2id): on 2 cores,
  // one I/O thread measured 14.5k commands/s against 12.9k with two.
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  return hw > 1 ? hw - 1 : 1;
}

Result<unsigned short> Server::listen() {
  if (port_) return port_;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(cfg_.listen_address, ec);
  if (ec) return Error::invalid(fmt::format("listen address {} is not an IP address", cfg_.listen_address));
  tcp::endpoint ep(addr, cfg_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  // Synchronous accepts (out_of_descriptors) must never wait for a connection.
  if (!ec) acceptor_.non_blocking(true, ec);
  if (ec) return Error::unavailable(fmt::format("cannot listen on {}:{}: {}", cfg_.listen_address, cfg_.port,
                                                ec.message()));
  port_ = acceptor_.local_endpoint().port();
  return port_;
}

Result<unsigned short> Server::start() {
  auto port = listen();
  if (!port) return port;
  work_.emplace(ioc_.get_executor());
  // The accept loop and stop()'s close run on the acceptor's strand: never concurrently.
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
  unsigned n = cfg_.io_threads ? cfg_.io_threads : default_io_threads();
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { ioc_.run(); });
  return port;
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  std::vector<std::shared_ptr<Conn>> live;
  {
    std::lock_guard lk(conns_mu_);
    for (auto& [id, weak] : conns_)
      if (auto c = weak.lock()) live.push_back(std::move(c));
  }
  // Close idle connections on their own strand; busy ones see stopping_ after
  // writing their response. stopping_ is set before these posts, so none is missed.
  for (auto& c : live)
    asio::post(c->stream.get_executor(), [c] {
      if (c->reading) c->stream.socket().close();
    });
  work_.reset();
}

void Server::wait() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

asio::awaitable<void> Server::accept_loop() {
  std::chrono::milliseconds pause{0};
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), use_tuple);
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      if (out_of_fds(ec)) {
        co_await out_of_descriptors(ec, pause);
        continue;
      }
      if (std::uint64_t held = 0; accept_warning_.due(held))
        log_fields(spdlog::level::warn, "accept failed", {{"error", ec.message()}, {"suppressed", held}});
      continue;
    }
    pause = std::chrono::milliseconds{0};
    admit(std::move(socket));
  }
}

// The process has no descriptor for the next connection: free the reserve to
// accept it and close it at once (the client learns now, not at its timeout),
// take the reserve back, and pause before accepting again.
asio::awaitable<void> Server::out_of_descriptors(const boost::system::error_code& ec,
                                                 std::chrono::milliseconds& pause) {
  if (std::uint64_t held = 0; accept_warning_.due(held))
    log_fields(spdlog::level::warn, "accept failed: out of file descriptors; closing new connections",
               {{"error", ec.message()}, {"open_connections", static_cast<std::uint64_t>(limits_.open())}, {"suppressed", held}});
  if (reserve_fd_ >= 0) {
    ::close(reserve_fd_);
    boost::system::error_code aec;
    tcp::socket doomed = acceptor_.accept(aec);
    boost::system::error_code ignored;
    if (!aec) doomed.close(ignored);
    reserve_fd_ = open_reserve();
  }
  pause = std::clamp(pause * 2, std::chrono::milliseconds{10}, std::chrono::milliseconds{1000});
  asio::steady_timer timer(acceptor_.get_executor(), pause);
  co_await timer.async_wait(use_tuple);
}

// Starts a session for `socket`, or closes it when a connection limit is reached.
void Server::admit(tcp::socket socket) {
  boost::system::error_code pec;
  const auto peer = socket.remote_endpoint(pec);
  ConnectionLimits::Refusal why{};
  auto ticket = limits_.admit(pec ? std::string() : peer.address().to_string(), why);
  boost::system::error_code ignored;
  if (!ticket) {
    socket.close(ignored);
    if (std::uint64_t held = 0; refusal_warning_.due(held))
      log_fields(spdlog::level::warn, "connection refused: limit reached",
                 {{"limit", why == ConnectionLimits::Refusal::total ? "max_connections" : "max_connections_per_peer"},
                  {"suppressed", held}});
    return;
  }
  socket.set_option(tcp::no_delay(true), ignored);
  std::shared_ptr<Conn> conn;
  {
    std::lock_guard lk(conns_mu_);
    conn = std::make_shared<Conn>(std::move(socket), next_conn_++, std::move(ticket));
    conns_[conn->id] = conn;
  }
  auto ex = conn->stream.get_executor();
  asio::co_spawn(ex, session(std::move(conn)), asio::detached);
}

asio::awaitable<void> Server::session(std::shared_ptr<Conn> conn) {
  beast::flat_buffer buffer;
  auto& stream = conn->stream;
  for (;;) {
    if (stopping_) break;
    http::request_parser<http::string_body> parser;
    parser.body_limit(cfg_.max_body_bytes);
    parser.header_limit(16 * 1024);
    // The header within header_timeout, then the body with read_timeout.
    stream.expires_after(cfg_.header_timeout);
    conn->reading = true;
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    conn->reading = false;
    if (!ec && unsupported_transfer_coding(parser)) {
      Response res = problem(501, "the request's Transfer-Encoding is not supported (only chunked)", "", "", "");
      res.keep_alive(false);
      stream.expires_after(cfg_.write_timeout);
      co_await http::async_write(stream, res, use_tuple);
      break;
    }
    if (!ec && !parser.is_done()) {
      stream.expires_after(cfg_.read_timeout);
      std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, use_tuple);
    }
    if (ec) {
      Response res;
      if (ec == http::error::body_limit)
        res = problem(413, fmt::format("the body exceeds {} bytes", cfg_.max_body_bytes), "", "", "");
      else if (ec == http::error::header_limit)
        res = problem(431, "the request headers are too large", "", "", "");
      else if (ec.category() == boost::system::error_code(http::error::body_limit).category() && ec != http::error::end_of_stream &&
               ec != http::error::partial_message)
        res = problem(400, "the request is not valid HTTP/1.1", "", "", "");
      else
        break;  // closed, timed out or cancelled: nothing to answer
      res.keep_alive(false);
      stream.expires_after(cfg_.write_timeout);
      co_await http::async_write(stream, res, use_tuple);
      break;
    }
    Request req = parser.release();
    // The peer's address, for handlers (rate limits, session device info); a
    // client cannot set it.
    {
      boost::system::error_code pec;
      auto peer = stream.socket().remote_endpoint(pec);
      req.erase("Causeway-Peer");
      if (!pec) req.set("Causeway-Peer", peer.address().to_string());
    }
    const bool keep_alive = req.keep_alive();
    stream.expires_never();
    Response res = co_await handler_(std::move(req));
    res.keep_alive(keep_alive && !stopping_);
    stream.expires_after(cfg_.write_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  std::lock_guard lk(conns_mu_);
  conns_.erase(conn->id);
}

}  // namespace causeway::api
