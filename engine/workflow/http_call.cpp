#include "engine/workflow/http_call.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <memory>
#include <optional>

#include "engine/workflow/http_pool.h"

namespace causeway::workflow {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Outcome = std::variant<HttpResponse, HttpFailure>;
using Request = http::request<http::string_body>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr std::string_view kUserAgent = "causeway-workflows/1";
constexpr std::uint32_t kMaxResponseHeader = 64 * 1024;
// A steady_clock deadline far in the future overflows; no action needs a day.
constexpr std::chrono::milliseconds kMaxTimeout = std::chrono::hours(24);

HttpFailure fail(std::string error_class, std::string message) { return {std::move(error_class), std::move(message)}; }

// Where a request goes, split out of its URL.
struct Target {
  bool tls = false;
  std::string host;         // for resolve and certificate checks: no brackets, decoded
  bool host_is_ip = false;  // IP literals get no SNI and are not resolved
  std::uint16_t port = 0;
  std::string host_header;  // host, [v6] bracketed, ":port" unless the default
  std::string target;       // origin-form: path (at least "/") and query
  std::string where() const {  // for messages: host:port
    const bool v6 = host_is_ip && host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool valid_host_name(std::string_view h) {
  return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

std::variant<Target, HttpFailure> parse_target(std::string_view url) {
  namespace urls = boost::urls;
  auto parsed = urls::parse_uri(url);
  if (!parsed) return fail("invalid_url", "the URL is not a valid absolute URI");
  const urls::url_view u = *parsed;
  Target t;
  if (u.scheme_id() == urls::scheme::https) t.tls = true;
  else if (u.scheme_id() != urls::scheme::http) return fail("invalid_url", "only http and https URLs are supported");
  // Credentials in a URL end up in logs and events; headers are the place for them.
  if (u.has_userinfo()) return fail("invalid_url", "URLs with user info are not supported");
  switch (u.host_type()) {
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
      t.host = u.host_address();
      t.host_is_ip = true;
      break;
    case urls::host_type::name:
      t.host = u.host_address();
      if (!valid_host_name(t.host)) return fail("invalid_url", "the URL's host is not a valid host name");
      break;
    default:
      return fail("invalid_url", "the URL has no usable host");
  }
  const std::uint16_t default_port = t.tls ? 443 : 80;
  t.port = default_port;
  if (u.has_port() && !u.port().empty()) {
    t.port = u.port_number();
    if (t.port == 0) return fail("invalid_url", "the URL's port is out of range");
  }
  t.host_header = t.host_is_ip && t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  if (t.port != default_port) t.host_header += ":" + std::to_string(t.port);
  const std::string_view path = u.encoded_path();
  t.target = path.empty() ? "/" : std::string(path);
  if (u.has_query()) {
    const std::string_view query = u.encoded_query();
    t.target += '?';
    t.target += query;
  }
  return t;
}

// Checked before anything is sent: a CR or LF would let a templated header
// value smuggle in headers or a second request.
std::optional<HttpFailure> check_request(const HttpRequest& r) {
  if (!is_token(r.method)) return fail("invalid_request", "the method is not an HTTP token");
  for (std::size_t i = 0; i < r.headers.size(); ++i) {
    const auto& [name, value] = r.headers[i];
    const std::string which = "header " + std::to_string(i);
    if (!is_token(name)) return fail("invalid_request", which + ": the name is not an HTTP token");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      return fail("invalid_request", which + " (" + name + "): CR, LF or NUL in the value");
    for (std::string_view reserved : {"host", "content-length", "transfer-encoding", "connection"})
      if (iequals(name, reserved)) return fail("invalid_request", which + " (" + name + ") is set by the engine");
  }
  return std::nullopt;
}

// Whether sending `r` twice is safe: an idempotent method (RFC 9110, 9.2.2),
// or a request the receiver can deduplicate by its Idempotency-Key.
bool may_repeat(const HttpRequest& r) {
  for (std::string_view m : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
    if (r.method == m) return true;
  return std::any_of(r.headers.begin(), r.headers.end(),
                     [](const auto& h) { return iequals(h.first, "idempotency-key") && !h.second.empty(); });
}

// Plain http keeps the connection open for the next request (idle ones wait
// in IdleConnections); TLS connections are used once.
Request build_request(HttpRequest& r, const Target& t) {
  Request req;
  req.version(11);
  const auto verb = http::string_to_verb(r.method);
  if (verb == http::verb::unknown) req.method_string(r.method);
  else req.method(verb);
  req.target(t.target);
  req.set(http::field::host, t.host_header);
  bool has_user_agent = false;
  for (const auto& [name, value] : r.headers) {
    has_user_agent = has_user_agent || iequals(name, "user-agent");
    req.insert(name, value);
  }
  if (!has_user_agent) req.set(http::field::user_agent, kUserAgent);
  if (t.tls) req.set(http::field::connection, "close");
  if (!r.body.empty() || verb == http::verb::post || verb == http::verb::put || verb == http::verb::patch)
    req.content_length(r.body.size());
  req.body() = std::move(r.body);
  return req;
}

HttpFailure classify(const error_code& ec, Clock::time_point deadline, std::string_view step, const Target& t) {
  if (ec == beast::error::timeout || Clock::now() >= deadline)
    return fail("timeout", std::string(step) + " " + t.where() + ": no answer within the timeout");
  return fail("connection", std::string(step) + " " + t.where() + " failed: " + ec.message());
}

// The system resolver cannot be interrupted mid-lookup, so the lookup's state
// is shared with its handler: on timeout the coroutine leaves, and the
// handler, when it finally runs, releases the resolver. The handler and the
// timer wait both run on the calling coroutine's strand, never concurrently.
struct Lookup {
  explicit Lookup(const asio::any_io_executor& ex) : resolver(ex), timer(ex) {}
  tcp::resolver resolver;
  asio::steady_timer timer;
  bool done = false;
  error_code ec;
  tcp::resolver::results_type results;
};

asio::awaitable<std::variant<std::vector<tcp::endpoint>, HttpFailure>> resolve(const Target& t,
                                                                               Clock::time_point deadline) {
  if (t.host_is_ip) {
    error_code ec;
    const auto address = asio::ip::make_address(t.host, ec);
    if (ec) co_return fail("invalid_url", "the URL's IP address is not valid");
    co_return std::vector<tcp::endpoint>{tcp::endpoint(address, t.port)};
  }
  const auto ex = co_await asio::this_coro::executor;
  auto lookup = std::make_shared<Lookup>(ex);
  lookup->timer.expires_at(deadline);
  const std::string service = std::to_string(t.port);
  lookup->resolver.async_resolve(t.host, service, tcp::resolver::numeric_service,
                                 [lookup](const error_code& ec, tcp::resolver::results_type results) {
                                   lookup->done = true;
                                   lookup->ec = ec;
                                   lookup->results = std::move(results);
                                   lookup->timer.cancel();
                                 });
  co_await lookup->timer.async_wait(use_tuple);
  if (!lookup->done) {
    lookup->resolver.cancel();
    co_return fail("timeout", "resolve " + t.where() + ": no answer within the timeout");
  }
  if (lookup->ec) co_return classify(lookup->ec, deadline, "resolve", t);
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : lookup->results) endpoints.push_back(entry.endpoint());
  if (endpoints.empty()) co_return fail("connection", "resolve " + t.where() + ": no addresses");
  co_return endpoints;
}

// What one request over one connection gave.
struct Exchanged {
  Outcome outcome;
  // Failed without a byte of response back (not by timeout): on a reused
  // connection, the sign that the peer closed it as the request went out.
  bool nothing_back = false;
  // A complete response that allows the connection to carry another request,
  // with nothing unread after it.
  bool reusable = false;
};

// `no_byte_back`: nothing of a response had arrived; a timeout never counts
// as "nothing back" (the peer may be working on the request).
Exchanged failed_with(HttpFailure f, bool no_byte_back) {
  const bool nothing_back = no_byte_back && f.error_class != "timeout";
  return {std::move(f), nothing_back, false};
}

// Writes the request and reads the response over a connected (and, for TLS,
// handshaken) stream. Interim 1xx responses are skipped.
template <class Stream>
asio::awaitable<Exchanged> exchange(Stream& stream, Request& req, Clock::time_point deadline, const Target& t) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_at(deadline);
  auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
  if (wec) co_return failed_with(classify(wec, deadline, "send to", t), true);
  beast::flat_buffer buffer;
  bool got_any = false;
  for (;;) {
    http::response_parser<http::string_body> parser;
    parser.header_limit(kMaxResponseHeader);
    parser.body_limit(kMaxResponseBody);
    if (req.method() == http::verb::head) parser.skip(true);
    tcp_layer.expires_at(deadline);
    auto [rec, bytes] = co_await http::async_read(stream, buffer, parser, use_tuple);
    // A TLS server that closes without close_notify ends a body delimited by
    // the end of the connection this way; the body is complete all the same.
    if (rec == ssl::error::stream_truncated && parser.got_some() && parser.need_eof() && !parser.is_done())
      parser.put_eof(rec);
    if (rec == http::error::body_limit)
      co_return failed_with(fail("too_large", "the response from " + t.where() + " exceeds " +
                                                  std::to_string(kMaxResponseBody) + " bytes"),
                            false);
    if (rec == http::error::header_limit)
      co_return failed_with(fail("too_large", "the response headers from " + t.where() + " are too large"), false);
    if (rec)
      co_return failed_with(classify(rec, deadline, "read from", t),
                            !got_any && !parser.got_some() && buffer.size() == 0);
    got_any = true;
    const bool keep_alive = parser.keep_alive() && !parser.need_eof();
    auto res = parser.release();
    const int status = res.result_int();
    if (status >= 100 && status < 200 && status != 101) continue;
    Exchanged out;
    out.reusable = keep_alive && status != 101 && buffer.size() == 0;
    HttpResponse response;
    response.status = status;
    for (const auto& field : res)
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    response.body = std::move(res.body());
    out.outcome = std::move(response);
    co_return out;
  }
}

// One client context for the process: loading the system trust store is the
// costly part, and a configured SSL_CTX may be shared between connections.
// Returns null (and why) when the context cannot be set up.
ssl::context* tls_context(std::string& why) {
  struct Holder {
    std::unique_ptr<ssl::context> ctx;
    std::string error;
  };
  static const Holder holder = [] {
    Holder h;
    try {
      auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
      error_code ec;
      ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                       ec);
      if (!ec) ctx->set_default_verify_paths(ec);
      if (!ec) ctx->set_verify_mode(ssl::verify_peer, ec);
      if (ec) h.error = ec.message();
      else h.ctx = std::move(ctx);
    } catch (const std::exception& e) {
      h.error = e.what();
    }
    return h;
  }();
  why = holder.error;
  return holder.ctx.get();
}

std::string pool_key(const Target& t) { return "http://" + t.where(); }

HttpFailure forbidden(const Target& t, const asio::ip::address& a, std::string_view cls) {
  return fail("forbidden_destination", t.where() + " is " + a.to_string() + ", a " + std::string(cls) +
                                           " address workflows may not reach (serve --workflow-http-allow)");
}

// Whether the connected socket's peer is one `egress` refuses (or unknown).
bool refused_peer(const tcp::socket& s, const EgressPolicy& egress) {
  error_code ec;
  const auto peer = s.remote_endpoint(ec);
  return ec || egress.refusal(peer.address()).has_value();
}

// Over an idle connection to the same host and port when there is one, else
// a new one. A reused connection that fails with nothing back (the peer closed
// it as the request went out), or answers 408, is replaced by a new one once,
// if `repeatable`.
asio::awaitable<Outcome> plain_exchange(const std::vector<tcp::endpoint>& endpoints, Request& req,
                                        Clock::time_point deadline, const Target& t, bool repeatable,
                                        const EgressPolicy& egress) {
  const auto ex = co_await asio::this_coro::executor;
  auto& pool = IdleConnections::process();
  const std::string key = pool_key(t);
  for (bool may_reuse = true;; may_reuse = false) {
    beast::tcp_stream stream(ex);
    bool v6 = false, reused = false;
    if (may_reuse) {
      if (auto idle = pool.take(key, Clock::now())) {
        error_code aec;
        stream.socket().assign(idle->v6 ? tcp::v6() : tcp::v4(), idle->fd, aec);
        if (aec) ::close(idle->fd);
        else reused = true, v6 = idle->v6;
        // Pooled under another request's policy: this one's decides.
        if (reused && refused_peer(stream.socket(), egress)) {
          stream.socket().close(aec);
          reused = false;
        }
      }
    }
    if (!reused) {
      stream.expires_at(deadline);
      auto [ec, peer] = co_await stream.async_connect(endpoints, use_tuple);
      if (ec) co_return classify(ec, deadline, "connect to", t);
      if (auto cls = egress.refusal(peer.address())) co_return forbidden(t, peer.address(), *cls);
      v6 = peer.protocol() == tcp::v6();
    }
    Exchanged done = co_await exchange(stream, req, deadline, t);
    // A 408 on a reused connection is most likely the one a server sends
    // unasked as it closes an idle connection, not an answer to this request.
    const auto* response = std::get_if<HttpResponse>(&done.outcome);
    const bool idle_timeout = response && response->status == 408;
    if (reused && (done.nothing_back || idle_timeout) && repeatable && Clock::now() < deadline) continue;
    error_code ignored;
    if (done.reusable) {
      stream.expires_never();
      const int fd = stream.socket().release(ignored);
      if (!ignored) {
        pool.give(key, IdleConnections::Connection{fd, v6}, Clock::now());
        co_return std::move(done.outcome);
      }
    }
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return std::move(done.outcome);
  }
}

asio::awaitable<Outcome> tls_exchange(const std::vector<tcp::endpoint>& endpoints, Request& req,
                                      Clock::time_point deadline, const Target& t, const EgressPolicy& egress) {
  std::string why;
  ssl::context* ctx = tls_context(why);
  if (!ctx) co_return fail("connection", "TLS is unavailable: " + why);
  const auto ex = co_await asio::this_coro::executor;
  beast::ssl_stream<beast::tcp_stream> stream(ex, *ctx);
  // SNI carries host names only (RFC 6066, section 3).
  if (!t.host_is_ip && !SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str()))
    co_return fail("connection", "TLS to " + t.where() + ": cannot set the server name");
  error_code ec;
  stream.set_verify_mode(ssl::verify_peer, ec);
  if (!ec) stream.set_verify_callback(ssl::host_name_verification(t.host), ec);
  if (ec) co_return fail("connection", "TLS to " + t.where() + ": " + ec.message());
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_at(deadline);
  auto [cec, peer] = co_await tcp_layer.async_connect(endpoints, use_tuple);
  if (cec) co_return classify(cec, deadline, "connect to", t);
  if (auto cls = egress.refusal(peer.address())) co_return forbidden(t, peer.address(), *cls);
  tcp_layer.expires_at(deadline);
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (hec) co_return classify(hec, deadline, "TLS handshake with", t);
  Exchanged out = co_await exchange(stream, req, deadline, t);
  // No close_notify: the request said Connection: close and the response is
  // read, so nothing is left to protect from truncation. Just close.
  error_code ignored;
  tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return std::move(out.outcome);
}

// The endpoints `egress` allows, or why none is.
std::variant<std::vector<tcp::endpoint>, HttpFailure> allowed_endpoints(std::vector<tcp::endpoint> all,
                                                                        const EgressPolicy& egress,
                                                                        const Target& t) {
  std::vector<tcp::endpoint> out;
  std::optional<HttpFailure> first_refusal;
  for (const auto& e : all) {
    if (auto cls = egress.refusal(e.address())) {
      if (!first_refusal) first_refusal = forbidden(t, e.address(), *cls);
    } else {
      out.push_back(e);
    }
  }
  if (out.empty()) return std::move(*first_refusal);
  return out;
}

// Runs on a strand (see http_call).
asio::awaitable<Outcome> send(HttpRequest request, Target t) {
  const auto deadline = Clock::now() + std::clamp(request.timeout, std::chrono::milliseconds(0), kMaxTimeout);
  auto resolved = co_await resolve(t, deadline);
  if (auto* failure = std::get_if<HttpFailure>(&resolved)) co_return std::move(*failure);
  const auto egress = request.egress ? request.egress : EgressPolicy::strict();
  auto allowed = allowed_endpoints(std::get<std::vector<tcp::endpoint>>(std::move(resolved)), *egress, t);
  if (auto* failure = std::get_if<HttpFailure>(&allowed)) co_return std::move(*failure);
  const auto& endpoints = std::get<std::vector<tcp::endpoint>>(allowed);
  const bool repeatable = may_repeat(request);
  Request req = build_request(request, t);
  if (t.tls) co_return co_await tls_exchange(endpoints, req, deadline, t, *egress);
  co_return co_await plain_exchange(endpoints, req, deadline, t, repeatable, *egress);
}

std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac_of(std::string_view secret, std::string_view t,
                                                               std::string_view body) {
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(t.data()), t.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>("."), 1);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  sodium_memzero(&state, sizeof state);  // it holds the keyed pads
  return mac;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

asio::awaitable<Outcome> http_call(HttpRequest request) {
  try {
    auto parsed = parse_target(request.url);
    if (auto* failure = std::get_if<HttpFailure>(&parsed)) co_return std::move(*failure);
    if (auto refused = check_request(request)) co_return std::move(*refused);
    // The resolver's handler and its timeout share state; a strand keeps them
    // apart even when the caller's executor is a multi-threaded pool.
    const auto ex = co_await asio::this_coro::executor;
    auto strand = asio::make_strand(ex);
    auto op = send(std::move(request), std::get<Target>(std::move(parsed)));
    co_return co_await asio::co_spawn(strand, std::move(op), asio::use_awaitable);
  } catch (const std::exception& e) {
    co_return fail("connection", std::string("unexpected error: ") + e.what());
  } catch (...) {
    co_return fail("connection", "unexpected error");
  }
}

std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds, std::string_view body) {
  return webhook_signature(std::vector<std::string>{std::string(secret)}, unix_seconds, body);
}

std::string webhook_signature(const std::vector<std::string>& secrets, std::int64_t unix_seconds,
                              std::string_view body) {
  const std::string t = std::to_string(unix_seconds);
  std::string out = "t=" + t;
  for (const auto& secret : secrets) {
    const auto mac = mac_of(secret, t, body);
    std::string hex(2 * mac.size() + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
    hex.pop_back();
    out += ",v1=" + hex;
  }
  return out;
}

bool verify_webhook_signature(std::string_view secret, std::string_view header, std::string_view body,
                              std::int64_t now_s, std::int64_t tolerance_s) {
  if (tolerance_s < 0) return false;
  std::optional<std::string_view> t_text;
  std::vector<std::string_view> candidates;
  while (!header.empty()) {
    const auto comma = header.find(',');
    const std::string_view item = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "t") {
      if (t_text) return false;  // two timestamps: which one was signed?
      t_text = value;
    } else if (key == "v1") {
      candidates.push_back(value);
    }
  }
  if (!t_text || candidates.empty()) return false;
  std::int64_t t = 0;
  const auto [end, err] = std::from_chars(t_text->data(), t_text->data() + t_text->size(), t);
  if (err != std::errc() || end != t_text->data() + t_text->size()) return false;
  std::int64_t age = 0;
  if (__builtin_sub_overflow(now_s, t, &age) || age > tolerance_s || age < -tolerance_s) return false;
  // The MAC covers the timestamp exactly as sent.
  const auto expected = mac_of(secret, *t_text, body);
  bool match = false;
  for (const std::string_view hex : candidates) {
    std::array<unsigned char, crypto_auth_hmacsha256_BYTES> presented{};
    std::size_t len = 0;
    if (hex.size() != 2 * presented.size() ||
        sodium_hex2bin(presented.data(), presented.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
        len != presented.size())
      continue;
    match = (sodium_memcmp(presented.data(), expected.data(), expected.size()) == 0) || match;
  }
  return match;
}

}  // namespace causeway::workflow
