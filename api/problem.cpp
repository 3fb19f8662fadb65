#include "api/problem.h"

#include <fmt/format.h>

#include <boost/beast/http/status.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;

int status_of(const Error& e) {
  switch (e.code) {
    case Errc::invalid: return 422;
    case Errc::not_found: return 404;
    case Errc::conflict: return 409;
    case Errc::unauthorized: return 401;
    case Errc::forbidden: return 403;
    case Errc::too_large: return 413;
    case Errc::unavailable: return 503;
    case Errc::corruption: return 500;
    case Errc::limit_exceeded: return 402;
  }
  return 500;
}

namespace {
std::string slug_of(int status) {
  switch (status) {
    case 400: return "malformed-request";
    case 401: return "unauthorized";
    case 402: return "limit-exceeded";
    case 403: return "forbidden";
    case 404: return "not-found";
    case 405: return "method-not-allowed";
    case 409: return "conflict";
    case 413: return "payload-too-large";
    case 415: return "unsupported-media-type";
    case 431: return "headers-too-large";
    case 422: return "validation-failed";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal-error" : "bad-request";
  }
}
}  // namespace

Response method_not_allowed(const char* allow, std::string_view instance, std::string_view request_id,
                            unsigned version) {
  auto res = problem(405, fmt::format("use {}", allow), "", instance, request_id, version);
  res.set(http::field::allow, allow);
  return res;
}

Response problem(int status, std::string detail, std::string_view pointer, std::string_view instance,
                 std::string_view request_id, unsigned version) {
  json::object o;
  o["type"] = "https://causeway.dev/problems/" + slug_of(status);
  o["title"] = std::string(http::obsolete_reason(static_cast<http::status>(status)));
  o["status"] = status;
  o["detail"] = detail;
  o["instance"] = instance;
  o["request_id"] = request_id;
  if (!pointer.empty() || status == 422) {
    json::array errs;
    errs.push_back(json::object{{"pointer", pointer}, {"detail", detail}});
    o["errors"] = std::move(errs);
  }
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "application/problem+json");
  if (status == 401) res.set(http::field::www_authenticate, "Bearer");
  if (status == 503) res.set(http::field::retry_after, "1");
  res.body() = json::serialize(o);
  res.prepare_payload();
  return res;
}

Response problem(const Error& e, std::string_view instance, std::string_view request_id, unsigned version) {
  // Internal failures are logged in full by the caller; clients get no internals.
  std::string detail = e.code == Errc::corruption ? "internal error; see the server log with this request id" : e.message;
  Response res = problem(status_of(e), std::move(detail), e.pointer, instance, request_id, version);
  if (e.extensions.empty() || e.code == Errc::corruption) return res;
  // Extension members (RFC 9457 section 3.2), never overriding the standard ones.
  boost::system::error_code ec;
  auto ext = json::parse(e.extensions, ec);
  if (ec || !ext.is_object()) return res;
  auto body = json::parse(res.body()).as_object();
  for (auto& [k, v] : ext.as_object())
    if (!body.contains(k)) body[k] = v;
  res.body() = json::serialize(body);
  res.prepare_payload();
  return res;
}

Response json_response(http::status status, std::string body, unsigned version, std::string_view content_type) {
  Response res{status, version};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace causeway::api
