// Log verification for `causeway log verify`: recompute what the log implies and
// compare it with what is stored.
//
// - the hash chain of one partition: every entry's hash matches its bytes,
//   links to the previous entry's hash (the first to the zero hash), positions
//   are gapless from 1, and the last hash equals the stored head;
// - aggregate state: folding each stream's events gives exactly the stored record.
//
// Reports the first problem with its position (or stream); never stops early on
// the first aggregate mismatch without naming it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "events/event_log.h"
#include "events/upcast.h"

namespace causeway {

struct VerifyReport {
  std::uint64_t events = 0;
  std::uint64_t aggregates = 0;
  std::optional<std::string> problem;  // first problem found, if any
  std::uint64_t problem_position = 0;  // 0 when not about one entry
};

using Progress = std::function<void(std::uint64_t done, std::uint64_t total)>;

VerifyReport verify_chain(EventLog& log, std::uint32_t partition, std::uint64_t head, const Hash& head_hash,
                          const Progress& progress);
VerifyReport verify_aggregates(EventLog& log, const Upcaster& upcaster,
                               const std::vector<std::pair<std::string, AggregateSnapshot>>& records,
                               const Progress& progress);

}  // namespace causeway
