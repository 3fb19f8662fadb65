// A small blocking HTTP/1.1 client for the integration tests (Boost.Beast),
// keeping one keep-alive connection and reconnecting when the server closes it.
// Every response is handed to response_observer() when one is set: the test
// executables set it to check each response against the API's document
// (support/openapi_conformance.cpp), so a disagreement fails the running test;
// the benchmarks set none. A client of some other server (a test's webhook
// receiver) is made with Peer::other and is not observed.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace causeway::testing {

// Request headers by name, as the calls below take them.
using Headers = std::map<std::string, std::string>;

// A JSON string's text (throws when `v` is not a string: a test failure).
inline std::string str(const boost::json::value& v) { return std::string(v.as_string()); }

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  boost::json::value json() const { return boost::json::parse(body); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

using ResponseObserver =
    std::function<void(const std::string& method, const std::string& target, const HttpResult& response)>;
inline ResponseObserver& response_observer() {
  static ResponseObserver observer;
  return observer;
}

class HttpClient {
 public:
  enum class Peer { causeway, other };
  explicit HttpClient(unsigned short port, Peer peer = Peer::causeway) : port_(port), peer_(peer) {}

  HttpResult request(boost::beast::http::verb method, const std::string& target, const std::string& body = {},
                     std::map<std::string, std::string> headers = {},
                     const std::string& content_type = "application/json") {
    namespace http = boost::beast::http;
    for (int attempt = 0;; ++attempt) {
      try {
        if (!stream_) connect();
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1");
        if (!body.empty() || method == http::verb::post || method == http::verb::patch) {
          if (!content_type.empty()) req.set(http::field::content_type, content_type);
          req.body() = body;
          req.prepare_payload();
        }
        for (auto& [k, v] : headers) req.set(k, v);
        http::write(*stream_, req);
        boost::beast::flat_buffer buf;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        http::read(*stream_, buf, parser);
        auto res = parser.release();
        HttpResult out;
        out.status = res.result_int();
        out.body = res.body();
        for (auto& f : res) {
          std::string name(f.name_string());
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          out.headers[name] = std::string(f.value());
        }
        if (!res.keep_alive()) stream_.reset();
        if (peer_ == Peer::causeway && response_observer())
          response_observer()(std::string(http::to_string(method)), target, out);
        return out;
      } catch (const boost::system::system_error&) {
        stream_.reset();
        if (attempt >= 1) throw;
      }
    }
  }

  HttpResult post(const std::string& target, const std::string& body, std::map<std::string, std::string> h = {}) {
    return request(boost::beast::http::verb::post, target, body, std::move(h));
  }
  HttpResult get(const std::string& target, std::map<std::string, std::string> h = {}) {
    return request(boost::beast::http::verb::get, target, {}, std::move(h), {});
  }
  HttpResult put(const std::string& target, const std::string& body, std::map<std::string, std::string> h = {}) {
    return request(boost::beast::http::verb::put, target, body, std::move(h));
  }
  HttpResult patch(const std::string& target, const std::string& body, std::map<std::string, std::string> h = {}) {
    return request(boost::beast::http::verb::patch, target, body, std::move(h));
  }
  HttpResult del(const std::string& target, std::map<std::string, std::string> h = {}) {
    return request(boost::beast::http::verb::delete_, target, {}, std::move(h), {});
  }

 private:
  void connect() {
    stream_.emplace(ioc_);
    stream_->connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
  }
  unsigned short port_;
  Peer peer_;
  boost::asio::io_context ioc_;
  std::optional<boost::beast::tcp_stream> stream_;
};

}  // namespace causeway::testing
