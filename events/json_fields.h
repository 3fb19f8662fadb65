// Reading one field of a JSON object, tolerating its absence: what every
// apply() and projection rule does with event data. A missing field or one
// of another type reads as the empty value.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>

namespace causeway {

inline std::string string_field(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

inline std::int64_t int_field(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

inline bool bool_field(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() && v->as_bool();
}

}  // namespace causeway
