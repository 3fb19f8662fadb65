// The HTTP action's wire: one request and its response, and the
// Causeway-Signature header that lets a receiver check a request came from us
// (docs/workflows.md, "Actions").
//
// http_call() is the only place the workflow engine talks to the outside
// world over HTTP. It never throws and never logs: every outcome is a value,
// either the server's response (any status, 5xx included — deciding what a
// status means is the executor's job) or an HttpFailure whose error_class the
// retry policy acts on. Failure messages name the host and port, never header
// values or bodies (they may carry secrets or personal data).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "engine/workflow/egress.h"

namespace causeway::workflow {

struct HttpRequest {
  std::string method;  // an HTTP token, e.g. "POST"
  std::string url;     // http:// or https://; no user info
  // Sent as given, in order. CR, LF or NUL in a value, a name that is not an
  // HTTP token, or one of the names http_call sets itself (Host,
  // Content-Length, Transfer-Encoding, Connection) is an "invalid_request".
  // A User-Agent given here replaces the default.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};  // bounds the whole exchange
  // Which addresses the call may connect to; null is EgressPolicy::strict().
  std::shared_ptr<const EgressPolicy> egress;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names as the server sent them
  std::string body;
};

struct HttpFailure {
  // "invalid_url"     the URL does not parse, is not http(s), has no host or
  //                   carries user info — nothing was sent;
  // "invalid_request" bad method or header (see HttpRequest) — nothing was sent;
  // "connection"      resolve, connect, TLS (including certificate or host
  //                   name verification), write or read failed;
  // "timeout"         request.timeout passed before the response was read;
  // "too_large"       the response body exceeds kMaxResponseBody (or its
  //                   header section exceeds 64 KiB).
  std::string error_class;
  std::string message;  // for operators: no header values, no bodies
};

inline constexpr std::size_t kMaxResponseBody = 1024 * 1024;

// Sends `request` (HTTP/1.1) and reads one response. Only to addresses the
// request's EgressPolicy allows: the host's resolved addresses it refuses are
// dropped before connecting, and the address connected to (a reused idle
// connection's too) is checked again; redirects are returned, never followed.
// https:// goes through
// OpenSSL with the system trust store, certificate and host name
// verification, and SNI, over a new connection each time (Connection: close).
// http:// reuses an idle keep-alive connection to the same host and port when
// there is one (http_pool.h) and leaves the connection idle again after a
// complete response that allows it. If a reused connection fails before any
// byte of response arrives (the peer closed it as the request went out), or
// answers 408 (what some servers send unasked as they close an idle
// connection), the request is sent once more over a new connection, but only
// when repeating it is safe: an idempotent method, or a non-empty
// Idempotency-Key header. A 408 on a new connection is returned as it is.
// Sets Host, User-Agent ("causeway-workflows/1") and, when there is a body or
// the method is POST, PUT or PATCH, Content-Length.
//
// Resolve, connect, TLS handshake, write and read together take at most
// request.timeout (plus scheduling slack). If the deadline passes while the
// system resolver is still busy, the call returns "timeout" at once; the
// abandoned lookup finishes in the background and keeps the executor's
// execution context busy until then.
//
// Never throws. May be awaited from any executor, single- or multi-threaded;
// the exchange itself runs on a strand of it.
boost::asio::awaitable<std::variant<HttpResponse, HttpFailure>> http_call(HttpRequest request);

// The Causeway-Signature header value:
//   "t=<unix seconds>,v1=<lowercase hex HMAC-SHA256(secret, "<t>.<body>")>"
std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds, std::string_view body);
// The same with one v1= entry per secret, in order (a secret being rotated
// out signs beside the new one): "t=<t>,v1=<mac 1>,v1=<mac 2>".
std::string webhook_signature(const std::vector<std::string>& secrets, std::int64_t unix_seconds,
                              std::string_view body);

// Whether `header` is a valid signature of `body` under `secret` whose t is
// within tolerance_s seconds of now_s (either side). Accepts the format
// webhook_signature() writes, with optional spaces after commas and several
// v1= entries (any one matching suffices, for secret rotation); unknown keys
// are ignored. The MAC is compared in constant time. A negative tolerance
// accepts nothing.
bool verify_webhook_signature(std::string_view secret, std::string_view header, std::string_view body,
                              std::int64_t now_s, std::int64_t tolerance_s);

}  // namespace causeway::workflow
