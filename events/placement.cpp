#include "events/placement.h"

namespace causeway {

namespace {
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
}  // namespace

std::string_view placement_key(std::string_view stream) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    run = is_hex(stream[i]) ? run + 1 : 0;
    // A run of exactly 32: the next character (if any) must end it.
    if (run == 32 && (i + 1 == stream.size() || !is_hex(stream[i + 1]))) return stream.substr(i + 1 - 32, 32);
  }
  return stream;
}

std::uint32_t placement_of(std::string_view stream, std::uint32_t partitions) {
  if (partitions <= 1) return 0;
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : placement_key(stream)) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<std::uint32_t>(h % partitions);
}

}  // namespace causeway
