// Compact JSON text of a value, in one of the two forms workflows need:
//   canonical  object keys sorted (byte order), Boost's number forms — what
//              content_hash() hashes, so equal definitions hash equally;
//   template   keys in document order, doubles in shortest form ("2.5", not
//              "2.5E0") — what a template prints for a non-string value.
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace causeway::workflow {

struct JsonStyle {
  bool sort_keys = false;
  bool shortest_doubles = false;
};
inline constexpr JsonStyle kCanonicalJson{true, false};
inline constexpr JsonStyle kTemplateJson{false, true};

void write_json(const boost::json::value& v, std::string& out, JsonStyle style);

}  // namespace causeway::workflow
