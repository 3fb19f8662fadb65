// Identifiers: 128-bit, time-ordered (UUIDv7 layout: 48-bit Unix milliseconds,
// then random bits), written as 32 lower-case hex digits, optionally prefixed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace causeway {

std::string new_id(std::int64_t now_us);
inline std::string new_id(std::string_view prefix, std::int64_t now_us) {
  return std::string(prefix) + "-" + new_id(now_us);
}
// 32 random bytes as 64 hex digits, for tokens.
std::string random_token_hex();
// Whether `s` is non-empty and only lower-case hex digits.
bool is_lower_hex(std::string_view s);
// Whether `id` is "<prefix>-<32 lower-case hex>", as new_id(prefix, …) makes.
bool is_id(std::string_view id, std::string_view prefix);

}  // namespace causeway
