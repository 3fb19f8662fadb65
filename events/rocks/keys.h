// Key encodings of the RocksDB column families (docs/formats.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace causeway::rockskeys {

enum Cf : std::size_t { kDefault, kLog, kStreams, kSubjects, kUnique, kIdempotency, kAggregates, kKeys, kMeta, kCounters, kCount };
inline constexpr const char* kCfNames[kCount] = {"default", "log", "streams", "subjects", "unique",
                                                 "idempotency", "aggregates", "keys", "meta", "counters"};

inline void put_be64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline std::uint64_t get_be64(std::string_view s) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[static_cast<std::size_t>(i)]);
  return v;
}
inline std::string be64(std::uint64_t v) {
  std::string s;
  s.reserve(8);
  put_be64(s, v);
  return s;
}
// "<name>\0<BE64 n>": sorts by name, then numerically.
inline std::string scoped(std::string_view name, std::uint64_t n) {
  std::string s(name);
  s.push_back('\0');
  put_be64(s, n);
  return s;
}

}  // namespace causeway::rockskeys
