// Verifying the audit trail with only the public key.
//
// verify_export() checks an export file (export.h, JSON lines) offline:
//   - records are gapless and in order from the header's `from` (a removed,
//     reordered or inserted record is named by the first position that breaks);
//   - each full record's stored entry decodes, its bytes hash to its hash, and
//     its readable event matches the entry (id, type, source, time, tenant,
//     actor, subjects, and every payload field that is not personal);
//   - each record links to the previous one (prev_hash);
//   - checkpoints carry a valid Ed25519 signature by `key` over the hash of the
//     record at the position they sign;
//   - every exported event lies at or before a verified checkpoint.
// verify_live() checks the log itself: each partition's chain (as `log
// verify`) and every checkpoint event's signature against the hash at the
// position it signs in its own partition (a checkpoint signing another
// partition is a problem).
//
// Both return the first problem with its position; a clean report has none.
#pragma once

#include <istream>
#include <optional>
#include <string>

#include "engine/audit/signing.h"
#include "events/event_log.h"

namespace causeway::audit {

struct AuditReport {
  std::uint64_t records = 0;      // export: records read; live: entries read
  std::uint64_t events = 0;       // full events checked
  std::uint64_t checkpoints = 0;  // valid signed checkpoints
  std::uint64_t signed_to = 0;    // highest position a valid checkpoint covers (live: over every partition)
  PositionToken signed_each;      // live only: per partition, the highest position a checkpoint covers
  std::optional<std::string> problem;
  std::uint64_t problem_position = 0;  // 0 when the problem is not about one entry
  std::uint32_t problem_partition = 0;  // live: the partition of the problem (an export is one partition)
};

AuditReport verify_export(std::istream& in, const PublicKey& key);
// `threads`: how many slices (threads) check the log (0: one per core once the log is
// large); the result does not depend on it.
AuditReport verify_live(EventLog& log, const PublicKey& key, unsigned threads = 0);

}  // namespace causeway::audit
