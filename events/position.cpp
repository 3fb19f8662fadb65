#include "events/position.h"

#include <algorithm>
#include <charconv>

namespace causeway {

std::string PositionToken::str() const {
  std::string out;
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    if (i) out.push_back('.');
    out += std::to_string(offsets[i]);
  }
  return out;
}

Result<PositionToken> PositionToken::parse(std::string_view text) {
  PositionToken t;
  if (text.empty() || text.size() > 4096) return Error::invalid("position token is empty or too long");
  std::size_t start = 0;
  while (start <= text.size()) {
    auto dot = text.find('.', start);
    auto part = text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc{} || p != part.data() + part.size())
      return Error::invalid("position token must be offsets joined by '.'");
    t.offsets.push_back(v);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return t;
}

bool PositionToken::covers(const PositionToken& other) const noexcept {
  for (std::size_t i = 0; i < other.offsets.size(); ++i) {
    std::uint64_t mine = i < offsets.size() ? offsets[i] : 0;
    if (mine < other.offsets[i]) return false;
  }
  return true;
}

void PositionToken::merge(const PositionToken& other) {
  if (offsets.size() < other.offsets.size()) offsets.resize(other.offsets.size(), 0);
  for (std::size_t i = 0; i < other.offsets.size(); ++i) offsets[i] = std::max(offsets[i], other.offsets[i]);
}

}  // namespace causeway
