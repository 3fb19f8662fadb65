// EventLog: the one interface the engine and the read side use to reach the log.
//
// Shaped for P partitions (embedded: P = 1; Kafka: P topic partitions). Events of
// one stream always land in one partition (partition_of), so per-stream order is
// total; positions are per-partition offsets starting at 1 and a PositionToken is
// their vector (contract 2).
//
// append() is the only write. One Commit is atomic (contract 3): its events, the
// aggregate records, the uniqueness reservations, the idempotency record and the
// chain head become durable together or not at all, and `done` is called only
// after that — never before the bytes are synced. Commits from many callers are
// grouped into one durable write (group commit).
//
// Threading: every method may be called from any thread. `done` runs on a log
// thread and must not block; post the result elsewhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "events/envelope.h"
#include "events/position.h"
#include "events/result.h"

namespace causeway {

// The version a stream must be at for the commit to apply; 0 = must not exist.
struct Expectation {
  std::string stream;
  std::uint64_t version = 0;
};

// A unique value (e.g. a blinded email) claimed for `owner`. If another owner
// already holds it, the commit fails with Errc::conflict naming `pointer`.
struct Reservation {
  std::string key;      // "<domain>:<value>"; never plaintext personal data
  std::string owner;    // stream that owns it
  std::string pointer;  // request field to blame, e.g. "/email"
};

// A metered quantity (e.g. a tenant's workflow runs this month) grown by
// `delta` in the same atomic batch as the commit's events, so it counts each
// commit exactly once. With `limit` >= 0 the commit fails with
// Errc::limit_exceeded (nothing written) when the total would pass it; the
// error's extensions are `hint` (a JSON object's text, may be empty) plus
// {"metric", "limit", "usage"}.
struct CounterAdd {
  std::string key;     // "usage:<tenant>:<metric>:<yyyy-mm>"
  std::int64_t delta = 1;
  std::int64_t limit = -1;
  std::string metric;  // for the error: "workflow_runs"
  std::string hint;
};

// Aggregate state after the commit, stored with the stream's new version.
struct AggregateRecord {
  std::string stream;
  std::uint32_t format = 1;  // state encoding version; mismatch => rebuild from events
  std::string bytes;
};

struct AggregateSnapshot {
  std::uint64_t version = 0;  // stream version the state reflects
  std::uint32_t format = 0;
  std::string bytes;
};

// Where an event is: its partition and its position there.
struct LogAddress {
  std::uint32_t partition = 0;
  std::uint64_t position = 0;
  auto operator<=>(const LogAddress&) const = default;
};

struct Committed {
  PositionToken token;                   // covers every event of the commit
  std::vector<std::uint64_t> positions;  // one per event, in order
  std::vector<std::uint64_t> stream_versions;
  bool replayed = false;                 // true: an earlier commit with this key
  std::string response;                  // the stored idempotent response
};

struct Commit {
  std::vector<NewEvent> events;
  std::vector<Expectation> expect;
  std::vector<Reservation> reservations;
  std::vector<CounterAdd> counters;
  std::vector<AggregateRecord> aggregates;
  // Idempotency (contract 4): when `idempotency_key` is set and a commit with the
  // same key is within the retention window, nothing is written and `done` gets
  // that commit's stored response with replayed = true — or Errc::invalid if its
  // fingerprint differs (same key, different request).
  std::string idempotency_key;
  std::string fingerprint;
  // Builds the response to store with the key, from the placed commit.
  std::function<std::string(const Committed&)> make_response;
};

using AppendDone = std::function<void(Result<Committed>)>;

class EventLog {
 public:
  virtual ~EventLog() = default;

  virtual std::uint32_t partitions() const = 0;
  virtual std::uint32_t partition_of(std::string_view stream) const = 0;

  virtual void append(Commit commit, AppendDone done) = 0;

  // Events of `partition` with position >= from, at most `max`, in order.
  virtual Result<std::vector<Event>> read_forward(std::uint32_t partition, std::uint64_t from, std::size_t max,
                                                  HashCheck check = HashCheck::verify) = 0;
  // The stored values (docs/formats.md) of positions [from, to] of `partition`,
  // in order, to `fn` (which returns false to stop): for scans that need only
  // part of each entry, such as chain verification (codec.h peek_entry). The
  // view is valid during the call only.
  virtual Status scan_raw(std::uint32_t partition, std::uint64_t from, std::uint64_t to,
                          const std::function<bool(std::uint64_t position, std::string_view value)>& fn) = 0;
  // Events of `stream` with stream_version >= from_version, at most `max`.
  virtual Result<std::vector<Event>> read_stream(const std::string& stream, std::uint64_t from_version,
                                                 std::size_t max) = 0;
  // Where the events about a data subject are (subject index), ascending by
  // partition, then position.
  virtual Result<std::vector<LogAddress>> subject_positions(const std::string& subject) = 0;
  // The stream holding the uniqueness reservation `key` ("email:<blind index>",
  // "slug:<slug>"), if any: how a login finds the user of an email.
  virtual Result<std::optional<std::string>> reservation_owner(const std::string& key) = 0;
  // The durable value of counter `key` (CounterAdd), 0 if never counted.
  virtual Result<std::int64_t> counter(const std::string& key) = 0;
  // Current version of a stream, 0 if it does not exist.
  virtual Result<std::uint64_t> stream_version(const std::string& stream) = 0;

  virtual Result<std::optional<AggregateSnapshot>> load_aggregate(const std::string& stream) = 0;

  // The reply stored with an idempotency key still inside the retention window,
  // if any, and the fingerprint of the request that made it. A fast path only:
  // append() re-checks under the writer, so racing duplicates stay exactly-once.
  struct StoredReply {
    std::string fingerprint;
    std::string response;
  };
  virtual Result<std::optional<StoredReply>> idempotent_reply(const std::string& key) = 0;

  virtual PositionToken head() const = 0;
  // The hash of `partition`'s last entry (zeros while it is empty): where its
  // chain ends (verify_chain).
  virtual Hash chain_head(std::uint32_t partition) const = 0;
  // Blocks until the partition's head passes `after`, the timeout ends or the
  // log closes. Returns the head. The wake-up for catch-up subscribers.
  virtual std::uint64_t wait_past(std::uint32_t partition, std::uint64_t after,
                                  std::chrono::milliseconds timeout) = 0;

  // Blocks until the head of some partition passes `seen` (one offset per
  // partition; UINT64_MAX never passes), the timeout ends or the log closes.
  // Returns the head. The wake-up for followers of several partitions.
  virtual PositionToken wait_moved(const PositionToken& seen, std::chrono::milliseconds timeout) = 0;

  // Finishes queued appends, then refuses new ones (Errc::unavailable).
  virtual void close() = 0;
};

}  // namespace causeway
