// The HTTP load generator (see load_generator.h).
#include "bench/load_generator.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <stdexcept>
#include <thread>

namespace causeway::bench {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kIoTimeout{10};

struct ConnStats {
  std::uint64_t ok = 0, errors = 0;
  Latencies lat;
  std::string first_error;
};

struct Schedule {
  Clock::time_point start;         // first send
  Clock::time_point window_start;  // after the warm-up
  Clock::time_point window_end;
  Clock::duration interval{};  // per connection, open loop only
};

asio::awaitable<void> connection(const LoadSpec& spec, int c, const Schedule& sch, tcp::endpoint ep, ConnStats& st) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  asio::steady_timer timer(ex);
  beast::flat_buffer buf;
  bool connected = false;
  const bool open_loop = spec.rate > 0;
  // Open loop: connection c's sends are phase-shifted so the total is even.
  Clock::time_point next = sch.start + (open_loop ? sch.interval * c / spec.connections : Clock::duration{});

  auto fail = [&](Clock::time_point when, std::string what) {
    if (when >= sch.window_start && when <= sch.window_end) {
      ++st.errors;
      if (st.first_error.empty()) st.first_error = std::move(what);
    }
  };

  for (std::uint64_t n = 0;; ++n) {
    Clock::time_point sent;
    if (open_loop) {
      sent = next;
      next += sch.interval;
      if (sent >= sch.window_end) break;
      if (sent > Clock::now()) {
        timer.expires_at(sent);
        co_await timer.async_wait(use_tuple);
      }
    } else {
      sent = Clock::now();
      if (sent >= sch.window_end) break;
    }
    if (!connected) {
      stream.expires_after(kIoTimeout);
      auto [ec] = co_await stream.async_connect(ep, use_tuple);
      if (ec) {
        fail(Clock::now(), "connect: " + ec.message());
        timer.expires_after(std::chrono::milliseconds(10));
        co_await timer.async_wait(use_tuple);
        continue;
      }
      stream.socket().set_option(tcp::no_delay(true));
      buf.clear();
      connected = true;
    }
    HttpRequest req = spec.make_request(c, n);
    req.keep_alive(true);
    stream.expires_after(kIoTimeout);
    auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
    http::response<http::string_body> res;
    boost::system::error_code rec;
    if (!wec) {
      auto [ec, rn] = co_await http::async_read(stream, buf, res, use_tuple);
      rec = ec;
    }
    const auto done = Clock::now();
    if (wec || rec) {
      fail(done, "I/O: " + (wec ? wec : rec).message());
      boost::system::error_code ignored;
      stream.socket().close(ignored);
      connected = false;
      continue;
    }
    if (res.result_int() != spec.expect_status) {
      fail(done, fmt::format("status {}: {}", res.result_int(), res.body().substr(0, 300)));
    } else if (done >= sch.window_start && done <= sch.window_end) {
      ++st.ok;
      st.lat.add(
          static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(done - sent).count()));
    }
    if (!res.keep_alive()) {
      boost::system::error_code ignored;
      stream.socket().close(ignored);
      connected = false;
    }
  }
  if (connected) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
  }
}

tcp::endpoint resolve(const std::string& host, unsigned short port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) throw std::invalid_argument("load generator: host must be an IP address: " + host);
  return tcp::endpoint(addr, port);
}

}  // namespace

LoadResult run_load(const LoadSpec& spec) {
  if (!spec.make_request) throw std::invalid_argument("load generator: no request builder");
  asio::io_context ioc(static_cast<int>(spec.threads));
  const auto ep = resolve(spec.host, spec.port);
  std::vector<ConnStats> stats(static_cast<std::size_t>(spec.connections));
  Schedule sch;
  sch.start = Clock::now() + std::chrono::milliseconds(20);  // let every coroutine start first
  sch.window_start = sch.start + to_duration(spec.warmup_s);
  sch.window_end = sch.window_start + to_duration(spec.measure_s);
  if (spec.rate > 0) sch.interval = to_duration(static_cast<double>(spec.connections) / spec.rate);
  for (int c = 0; c < spec.connections; ++c) {
    // Closed loop starts at once; open loop waits for its slot.
    asio::co_spawn(asio::make_strand(ioc), connection(spec, c, sch, ep, stats[static_cast<std::size_t>(c)]),
                   [](std::exception_ptr e) {
                     if (e) std::rethrow_exception(e);
                   });
  }
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < spec.threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();

  LoadResult r;
  Latencies all;
  for (auto& s : stats) {
    r.ok += s.ok;
    r.errors += s.errors;
    all.merge(s.lat);
    if (r.first_error.empty()) r.first_error = s.first_error;
  }
  r.per_second = static_cast<double>(r.ok) / spec.measure_s;
  r.p50_us = all.percentile(50);
  r.p90_us = all.percentile(90);
  r.p99_us = all.percentile(99);
  r.p999_us = all.percentile(99.9);
  r.max_us = all.percentile(100);
  return r;
}

HttpRequest json_post(const std::string& target, std::string body) {
  HttpRequest req{http::verb::post, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

std::pair<unsigned, std::string> http_once(const std::string& host, unsigned short port, HttpRequest req) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(resolve(host, port));
  req.keep_alive(false);
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return {res.result_int(), res.body()};
}

}  // namespace causeway::bench
