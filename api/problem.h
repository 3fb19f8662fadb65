// RFC 9457 problem details (application/problem+json).
//
// Every error response of the API is built here, so they all share one shape:
//   {"type","title","status","detail","instance","request_id",
//    "errors":[{"pointer","detail"}]}   // errors only when a field is to blame
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

#include "events/result.h"

namespace causeway::api {

using Response = boost::beast::http::response<boost::beast::http::string_body>;

int status_of(const Error& e);  // HTTP status for an error code
Response problem(int status, std::string detail, std::string_view pointer, std::string_view instance,
                 std::string_view request_id, unsigned version = 11);
Response problem(const Error& e, std::string_view instance, std::string_view request_id, unsigned version = 11);
// 405 with the Allow header listing `allow` (e.g. "GET, POST").
Response method_not_allowed(const char* allow, std::string_view instance, std::string_view request_id,
                            unsigned version = 11);
// A 2xx/3xx reply with a body of `content_type` (JSON by default).
Response json_response(boost::beast::http::status status, std::string body, unsigned version,
                       std::string_view content_type = "application/json");

}  // namespace causeway::api
