// Placing a group of commits: the one place the write rules of contracts 3
// and 4 are decided, for every EventLog writer (the embedded RocksEventLog,
// the in-memory MemoryEventLog, and the Kafka writer to come).
//
// place_group() takes a writer's queued commits in order and checks each
// against the durable state (read through LogState) as changed by the commits
// before it in the same group: idempotency key first (a stored reply within
// the retention window replays it, a different fingerprint is invalid), then
// expected stream versions, reservations and counter limits. A commit that
// passes is placed: each event goes to partition_of(stream), gets the next
// gapless position of that partition, the next version of its stream, the
// group's time and the partition's chain link, and is encoded (codec.h). A
// refused commit writes nothing and does not disturb the others.
//
// The result is what the writer must make durable as one unit — entries,
// stream and subject indexes, reservations, counters, aggregate records,
// idempotency records and the new partition heads — and, only after that
// succeeded, the answer for each commit. If a read of the state fails midway
// through placing a commit's events, the whole group fails as unavailable and
// nothing is to be written.
//
// Pure: reads only through LogState, writes nothing; the caller owns
// durability, publication and the `done` calls.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "events/event_log.h"
#include "events/records.h"  // IdempotencyRecord

namespace causeway {

// What a writer reads of its durable state (before the group).
class LogState {
 public:
  virtual ~LogState() = default;
  virtual Result<std::uint64_t> stream_version(const std::string& stream) = 0;
  virtual Result<std::optional<std::string>> reservation_owner(const std::string& key) = 0;
  virtual Result<std::int64_t> counter(const std::string& key) = 0;
  // The record stored with an idempotency key, expired or not.
  virtual Result<std::optional<IdempotencyRecord>> idempotency(const std::string& key) = 0;
};

// The last entry of a partition: its position (0: empty) and chain hash.
struct PartitionHead {
  std::uint64_t position = 0;
  Hash hash{};
  bool operator==(const PartitionHead&) const = default;
};

struct PlacedEntry {
  Event event;        // placed; event.hash set
  std::string value;  // the stored bytes (encode_entry)
};

struct PlacedGroup {
  std::vector<Result<Committed>> results;  // one per commit, in order

  // To make durable, as one unit, when `writes()`: some commit was placed (even
  // one with no events: its reservations, counters or idempotency record).
  std::vector<PlacedEntry> entries;  // in placement order; per partition, ascending
  std::vector<std::pair<std::string, std::string>> reservations;         // key -> owner
  std::vector<std::pair<std::string, std::int64_t>> counters;            // key -> new total
  std::vector<std::pair<std::string, AggregateSnapshot>> aggregates;     // stream -> record
  std::vector<std::pair<std::string, IdempotencyRecord>> idempotency;    // key -> record
  std::vector<PartitionHead> heads;  // after the group, one per partition; empty when nothing was placed
  std::unordered_map<std::string, std::uint64_t> stream_versions;        // stream -> new version

  bool writes() const { return !heads.empty(); }
};

struct PlacementRules {
  std::function<std::uint32_t(std::string_view stream)> partition_of;
  std::int64_t now_us = 0;
  std::int64_t idempotency_retention_us = 0;
};

// `heads` are the partitions' durable heads before the group (their count is P).
PlacedGroup place_group(std::vector<Commit>& commits, LogState& state, std::vector<PartitionHead> heads,
                        const PlacementRules& rules);

// The error of a commit refused by a counter limit (CounterAdd).
Error limit_error(const CounterAdd& add, std::int64_t usage);

}  // namespace causeway
