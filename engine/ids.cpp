#include "engine/ids.h"

#include <algorithm>

#include <sodium.h>

namespace causeway {

std::string new_id(std::int64_t now_us) {
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  auto ms = static_cast<std::uint64_t>(now_us / 1000);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x70);  // version 7
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char out[33];
  sodium_bin2hex(out, sizeof out, b, sizeof b);
  return std::string(out, 32);
}

std::string random_token_hex() {
  unsigned char b[32];
  randombytes_buf(b, sizeof b);
  char out[65];
  sodium_bin2hex(out, sizeof out, b, sizeof b);
  return std::string(out, 64);
}

bool is_lower_hex(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_id(std::string_view id, std::string_view prefix) {
  return id.size() == prefix.size() + 1 + 32 && id.substr(0, prefix.size()) == prefix && id[prefix.size()] == '-' &&
         is_lower_hex(id.substr(prefix.size() + 1));
}

}  // namespace causeway
