// A real HTTP/1.1 server on 127.0.0.1 (ephemeral port) that stands in for a
// customer's webhook endpoint in tests of the workflow engine's http action.
//
// It records every request as it arrives and answers from a script: replies
// pushed with push_reply() are used in order, one per request; when none is
// left it answers 200 {"ok":true}. hang_next(n) makes the next n requests get
// no answer at all (for timeout tests); a hung connection is held until the
// client closes it or the receiver is destroyed. For the client's keep-alive
// handling: drop_next(n) closes the connection of each of the next n
// requests without an answer (as a server does when its idle timeout strikes
// as a request arrives), close_after_next(n) answers the next n requests as
// keep-alive and then closes the connection anyway, connections() counts
// the connections accepted and wait_closed() waits for the receiver to have
// closed its end of n of them.
//
// Lifecycle and threading: the constructor listens and starts one I/O thread
// (all connections are coroutines on it: keep-alive and any number of
// concurrent connections). Every public member is safe to call from any
// thread. The destructor stops the thread without waiting for clients: open
// connections, hung ones included, are closed.
//
// Tests synchronise with wait_for(), never with sleeps.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace causeway::testing {

class WebhookReceiver {
 public:
  struct Received {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  // lower-case names; repeated fields joined with ", "
  };

  // Listens on 127.0.0.1:0 and starts serving. Throws boost::system::system_error
  // when it cannot listen (a test setup failure, not a case to handle).
  WebhookReceiver() : acceptor_(ioc_) {
    const boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    boost::asio::co_spawn(ioc_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }

  // Stops the I/O thread, then destroys the pending coroutines with the
  // io_context (which closes their sockets). Members they touch (mu_, ...)
  // are declared before ioc_ and so outlive it.
  ~WebhookReceiver() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(std::string_view path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  // Queues the reply to a future request (in order). status: 100..999.
  void push_reply(int status, std::string body = "{}") {
    std::lock_guard lk(mu_);
    replies_.push_back({status, std::move(body)});
  }

  // The next n requests are recorded but never answered. Does not consume
  // pushed replies.
  void hang_next(int n) {
    std::lock_guard lk(mu_);
    hang_ += n;
  }

  // The next n requests are recorded, then their connections closed unanswered.
  void drop_next(int n) {
    std::lock_guard lk(mu_);
    drop_ += n;
  }

  // The next n requests are answered (keep-alive, as asked), then their
  // connections closed.
  void close_after_next(int n) {
    std::lock_guard lk(mu_);
    close_after_ += n;
  }

  std::size_t connections() const {
    std::lock_guard lk(mu_);
    return connections_;
  }

  // Whether the receiver has shut down its end of at least n connections,
  // waiting up to `timeout` for that.
  bool wait_closed(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return closed_ >= n; });
  }

  std::vector<Received> received() const {
    std::lock_guard lk(mu_);
    return received_;
  }

  // Whether at least n requests have arrived, waiting up to `timeout` for them.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return received_.size() >= n; });
  }

 private:
  struct Reply {
    int status;
    std::string body;
    bool then_close = false;
  };
  enum class Fate { answer, hang, drop };
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  static constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

  static std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }

  // Records the request and decides its fate: a reply, or none (hang, drop).
  std::pair<Fate, Reply> record(const Request& req) {
    Received r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.body = req.body();
    for (const auto& field : req) {
      auto [it, fresh] = r.headers.emplace(lower(field.name_string()), std::string(field.value()));
      if (!fresh) it->second += ", " + std::string(field.value());
    }
    std::pair<Fate, Reply> fate{Fate::answer, Reply{200, R"({"ok":true})"}};
    {
      std::lock_guard lk(mu_);
      received_.push_back(std::move(r));
      if (hang_ > 0) {
        --hang_;
        fate.first = Fate::hang;
      } else if (drop_ > 0) {
        --drop_;
        fate.first = Fate::drop;
      } else {
        if (!replies_.empty()) {
          fate.second = std::move(replies_.front());
          replies_.pop_front();
        }
        if (close_after_ > 0) {
          --close_after_;
          fate.second.then_close = true;
        }
      }
    }
    cv_.notify_all();
    return fate;
  }

  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (ec) {
        if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) co_return;
        continue;
      }
      {
        std::lock_guard lk(mu_);
        ++connections_;
      }
      boost::asio::co_spawn(ioc_, session(std::move(socket)), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket) {
    namespace http = boost::beast::http;
    boost::beast::tcp_stream stream(std::move(socket));
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(16 * 1024 * 1024);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (ec) break;
      Request req = parser.release();
      const auto [fate, reply] = record(req);
      if (fate == Fate::drop) break;
      if (fate == Fate::hang) {
        // Hang: answer nothing and hold the connection until the client gives up.
        char sink[1024];
        for (;;) {
          auto [rec, m] = co_await stream.async_read_some(boost::asio::buffer(sink), use_tuple);
          if (rec) break;
        }
        break;
      }
      http::response<http::string_body> res;
      res.version(req.version());
      res.result(static_cast<unsigned>(reply.status));
      res.set(http::field::content_type, "application/json");
      res.body() = reply.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
      if (wec || !res.keep_alive() || reply.then_close) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    {
      std::lock_guard lk(mu_);
      ++closed_;
    }
    cv_.notify_all();
  }

  // Declared before ioc_: coroutine frames destroyed with ioc_ may still refer to them.
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<Reply> replies_;
  int hang_ = 0, drop_ = 0, close_after_ = 0;
  std::size_t connections_ = 0, closed_ = 0;
  std::vector<Received> received_;
  std::uint16_t port_ = 0;

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

}  // namespace causeway::testing
