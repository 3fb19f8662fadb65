#include "engine/ids.h"

#include "events/codec.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <sodium.h>

namespace causeway {

namespace {

// The system CSPRNG's output, drawn 4,000 bytes at a time into a per-thread buffer:
// one getrandom call per 400 ids rather than one per id (ids are minted for
// every event). Bytes are wiped as they are handed out, never handed out twice.
void id_random_bytes(unsigned char* out, std::size_t n) {
  thread_local std::array<unsigned char, 4000> pool;
  thread_local std::size_t used = pool.size();
  if (used + n > pool.size()) {
    randombytes_buf(pool.data(), pool.size());
    used = 0;
  }
  std::memcpy(out, pool.data() + used, n);
  sodium_memzero(pool.data() + used, n);
  used += n;
}

}  // namespace

std::string new_id(std::int64_t now_us) {
  unsigned char b[16];
  id_random_bytes(b + 6, 10);  // bytes 0-5 are the time
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

std::string new_id_near(std::string_view prefix, std::int64_t now_us, const EventLog& log, std::string_view near) {
  const std::uint32_t target = log.partition_of(near);
  for (;;) {
    std::string id = new_id(prefix, now_us);
    if (log.partition_of(id) == target) return id;
  }
}

std::string derived_id_near(std::string_view prefix, std::string_view seed, const EventLog& log,
                            std::string_view near) {
  const std::uint32_t target = log.partition_of(near);
  for (std::uint64_t k = 0;; ++k) {
    const std::string text = k == 0 ? std::string(seed) : std::string(seed) + "#" + std::to_string(k);
    std::string id = std::string(prefix) + "-" + blake2b_hex(text).substr(0, 32);
    if (log.partition_of(id) == target) return id;
  }
}

}  // namespace causeway
