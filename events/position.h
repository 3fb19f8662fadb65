// Position tokens (ARCHITECTURE.md contract 2).
//
// The log has P partitions; a token is the vector of per-partition offsets, and
// offset 0 means "nothing of that partition". Text form: offsets joined by '.',
// e.g. "42" for the embedded log (P = 1) or "42.0.17" for P = 3. A token
// dominates another when it is >= in every partition.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/result.h"

namespace causeway {

struct PositionToken {
  std::vector<std::uint64_t> offsets;

  std::string str() const;
  static Result<PositionToken> parse(std::string_view text);
  bool covers(const PositionToken& other) const noexcept;  // this >= other everywhere
  void merge(const PositionToken& other);                  // element-wise max
  bool operator==(const PositionToken&) const = default;
};

}  // namespace causeway
