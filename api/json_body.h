// Parsing request bodies: JSON only, bounded depth, valid UTF-8, an object.
#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "events/result.h"

namespace causeway::api {

struct BodyError {
  int status;  // 400, 415 or 422
  std::string detail;
};

// Content type must be application/json (parameters allowed). Fails with 415 for
// another type, 400 for malformed JSON, invalid UTF-8 or nesting deeper than
// max_depth, 422 when the document is not an object. A number written with a
// fraction or exponent that is a whole number in the 64-bit range (16.0, 1e3)
// is returned as that integer, as JSON Schema counts it.
std::variant<boost::json::value, BodyError> parse_json_body(std::string_view content_type, std::string_view body,
                                                            std::size_t max_depth);

}  // namespace causeway::api
