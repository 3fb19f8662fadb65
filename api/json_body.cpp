#include "api/json_body.h"

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>

namespace causeway::api {
namespace json = boost::json;

namespace {

// JSON Schema counts 16.0 as an integer; Boost.JSON parses it as a double.
// Every integral double within the 64-bit range becomes the integer it
// equals, so "type": "integer" and as_int64() accept it.
void integral_doubles_as_integers(json::value& v) {
  if (auto* o = v.if_object()) {
    for (auto& kv : *o) integral_doubles_as_integers(kv.value());
  } else if (auto* a = v.if_array()) {
    for (auto& e : *a) integral_doubles_as_integers(e);
  } else if (v.is_double()) {
    double d = v.get_double();
    // [-2^63, 2^63): both bounds are exact doubles.
    if (d == std::trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
      v = static_cast<std::int64_t>(d);
  }
}

}  // namespace

std::variant<json::value, BodyError> parse_json_body(std::string_view content_type, std::string_view body,
                                                     std::size_t max_depth) {
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (!(media.size() == 16 && std::equal(media.begin(), media.end(), "application/json", [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })))
    return BodyError{415, "the request body must be application/json"};
  json::parse_options opts;
  opts.max_depth = max_depth;
  opts.allow_invalid_utf8 = false;
  opts.allow_comments = false;
  opts.allow_trailing_commas = false;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, opts);
  if (ec == json::error::too_deep)
    return BodyError{400, fmt::format("the JSON body nests deeper than {} levels", max_depth)};
  if (ec == json::error::syntax && !body.empty()) {
    // Boost.JSON reports invalid UTF-8 as a syntax error; tell the two apart.
    json::parse_options lax = opts;
    lax.allow_invalid_utf8 = true;
    boost::system::error_code ec2;
    json::parse(body, ec2, {}, lax);
    if (!ec2) return BodyError{400, "the JSON body is not valid UTF-8"};
  }
  if (ec) return BodyError{400, fmt::format("the body is not valid JSON: {}", ec.message())};
  if (!v.is_object()) return BodyError{422, "the JSON body must be an object"};
  integral_doubles_as_integers(v);
  return v;
}

}  // namespace causeway::api
