// The event envelope (ARCHITECTURE.md contract 1).
//
// An Event is immutable once the log has assigned its position. Attribute names
// follow CloudEvents 1.0 where one exists (id, source, type, subject, time); the
// JSON rendering in codec.h uses them. `data` is the payload as JSON text, with
// fields marked personal in schemas/ already sealed by the key vault (see
// docs/formats.md, "Sealed field"), so the hash chain covers ciphertext only.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace causeway {

using Hash = std::array<std::uint8_t, 32>;

struct Actor {
  std::string id;            // who issued the command ("user:…", "system", "admin:…")
  std::string impersonator;  // the admin acting as `id`, empty when none
  bool operator==(const Actor&) const = default;
};

// How a reader treats an entry's chain hash: verify recomputes it (audit,
// `log verify`, single reads); trust skips it for bulk replay, where RocksDB's
// block checksums guard the bytes and every field is still bounds-checked.
enum class HashCheck { verify, trust };

// What a command produces before the log has placed it.
struct NewEvent {
  std::string stream;                 // e.g. "user-0b6f…"; one stream, one partition
  std::string id;                     // unique event id (the idempotency handle)
  std::string type;                   // e.g. "user.signed_up"
  std::uint32_t schema_version = 1;   // version of the payload schema
  std::int64_t occurred_at_us = 0;    // when the decision was made (engine clock)
  std::string tenant;                 // organization id, empty for global streams
  Actor actor;
  std::vector<std::string> subjects;  // data subjects (GDPR), e.g. "user-0b6f…"
  std::string causation_id;           // the command (or event) that caused it
  std::string correlation_id;         // the request / workflow it belongs to
  std::string traceparent;            // W3C trace context, as received
  std::string data;                   // JSON payload, personal fields sealed
};

// A placed event: NewEvent plus what the log assigns.
struct Event : NewEvent {
  std::uint32_t partition = 0;
  std::uint64_t position = 0;        // offset in the partition, from 1, gapless
  std::uint64_t stream_version = 0;  // 1 for a stream's first event
  std::int64_t recorded_at_us = 0;   // when the log accepted it
  Hash prev_hash{};                  // chain link: hash of the previous entry
  Hash hash{};                       // hash of this entry (see docs/formats.md)
};

}  // namespace causeway
