#include "projections/projection.h"

#include <sodium.h>

#include <boost/json/serialize.hpp>
#include <ctime>
#include <fmt/format.h>

namespace causeway {

std::string Projection::schema_sql() const { return std::string(embedded_view_sql(name())); }

std::string Projection::schema_hash() const {
  const std::string text = schema_sql();
  unsigned char h[16];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(text.data()), text.size(), nullptr, 0);
  char out[33];
  sodium_bin2hex(out, sizeof out, h, sizeof h);
  return out;
}

std::string field(const boost::json::object& data, const char* key) {
  auto* v = data.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string sealed_field(const boost::json::object& data, const char* key) {
  auto* v = data.if_contains(key);
  return v ? boost::json::serialize(*v) : std::string();
}

std::string month_of(std::int64_t us) {
  std::time_t t = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1);
}

}  // namespace causeway
