// A built-in HTTP/1.1 load generator on Boost.Beast (async client, C++20
// coroutines): N keep-alive connections, each with one request outstanding.
//
//   closed loop (rate == 0): every connection sends its next request as soon
//     as the previous response is read — measures the server's ceiling.
//   open loop (rate > 0): requests are scheduled at a fixed total rate, spread
//     evenly over the connections; latency is measured from the scheduled send
//     time, so a stalled server is charged for the requests it delayed
//     (no coordinated omission).
//
// Only responses completed inside the measured window (after the warm-up)
// count; their latencies are in microseconds.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "bench/common.h"

namespace causeway::bench {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

struct LoadSpec {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  int connections = 64;
  unsigned threads = 1;
  double warmup_s = 0.5;
  double measure_s = 3.0;
  double rate = 0;  // total requests/s; 0 = closed loop
  // Request n (from 0) of connection c. Called on the connection's strand.
  std::function<HttpRequest(int c, std::uint64_t n)> make_request;
  unsigned expect_status = 200;  // any other status counts as an error
};

struct LoadResult {
  std::uint64_t ok = 0;      // expected-status responses in the window
  std::uint64_t errors = 0;  // other statuses and I/O failures in the window
  double per_second = 0;     // ok / measure_s
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  std::string first_error;  // status and body (or I/O error) of the first error
};

LoadResult run_load(const LoadSpec& spec);

// One blocking request on a fresh connection; returns the status and body.
std::pair<unsigned, std::string> http_once(const std::string& host, unsigned short port, HttpRequest req);

// POST `target` with a JSON body (Content-Type, Host, Content-Length set).
HttpRequest json_post(const std::string& target, std::string body);

}  // namespace causeway::bench
