#include "events/records.h"

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <sstream>

namespace causeway {
namespace {
constexpr char kFormat = 1;

template <class F>
std::string write(F&& f) {
  std::ostringstream os(std::ios::binary);
  os.put(kFormat);
  {
    cereal::PortableBinaryOutputArchive ar(os);
    f(ar);
  }
  return std::move(os).str();
}

template <class F>
bool read(std::string_view bytes, F&& f) {
  if (bytes.empty() || bytes[0] != kFormat) return false;
  try {
    std::istringstream is(std::string(bytes.substr(1)), std::ios::binary);
    cereal::PortableBinaryInputArchive ar(is);
    f(ar);
    return is.peek() == std::char_traits<char>::eof();
  } catch (const std::exception&) {
    return false;
  }
}
}  // namespace

std::string encode_idempotency(const IdempotencyRecord& r) {
  return write([&](auto& ar) { ar(r.created_at_us, r.fingerprint, r.response); });
}

std::optional<IdempotencyRecord> decode_idempotency(std::string_view bytes) {
  IdempotencyRecord r;
  if (!read(bytes, [&](auto& ar) { ar(r.created_at_us, r.fingerprint, r.response); })) return std::nullopt;
  return r;
}

std::string encode_aggregate(const AggregateSnapshot& s) {
  return write([&](auto& ar) { ar(s.format, s.version, s.bytes); });
}

std::optional<AggregateSnapshot> decode_aggregate(std::string_view bytes) {
  AggregateSnapshot s;
  if (!read(bytes, [&](auto& ar) { ar(s.format, s.version, s.bytes); })) return std::nullopt;
  return s;
}

}  // namespace causeway
