// MemoryEventLog: an EventLog held in memory, with P partitions.
//
// The same contract as the embedded log (event_log.h; the contract suite in
// tests/events/log_contract_test.cpp runs against both): one writer thread
// places queued groups with place_group() (events/group_placement.h), so the
// rules — expected versions, reservations, counter limits, idempotency, one
// hash chain per partition — are the embedded log's own. A commit's events may
// span partitions; positions are gapless per partition, from 1.
//
// For tests and for tools that need a log with P > 1 before Kafka mode: it
// keeps nothing on disk ("durable" means applied under the lock, so a `done`
// is called only after every read sees the commit).
//
// Threading: every method may be called from any thread; `done` runs on the
// writer thread. close() drains queued appends, then refuses new ones.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "events/clock.h"
#include "events/commit_queue.h"
#include "events/event_log.h"
#include "events/group_placement.h"

namespace causeway {

struct MemoryLogOptions {
  std::uint32_t partitions = 1;
  // Defaults to placement_of (events/placement.h).
  std::function<std::uint32_t(std::string_view stream, std::uint32_t partitions)> placement;
  std::size_t max_group = 1024;
  std::int64_t idempotency_retention_us = 24LL * 3600 * 1'000'000;
  const Clock* clock = nullptr;  // defaults to the system clock
};

class MemoryEventLog final : public EventLog {
 public:
  explicit MemoryEventLog(MemoryLogOptions opts = {});
  ~MemoryEventLog() override;

  std::uint32_t partitions() const override { return opts_.partitions; }
  std::uint32_t partition_of(std::string_view stream) const override;
  void append(Commit commit, AppendDone done) override;
  Result<std::vector<Event>> read_forward(std::uint32_t partition, std::uint64_t from, std::size_t max,
                                          HashCheck check = HashCheck::verify) override;
  Status scan_raw(std::uint32_t partition, std::uint64_t from, std::uint64_t to,
                  const std::function<bool(std::uint64_t, std::string_view)>& fn) override;
  Result<std::vector<Event>> read_stream(const std::string& stream, std::uint64_t from_version,
                                         std::size_t max) override;
  Result<std::vector<LogAddress>> subject_positions(const std::string& subject) override;
  Result<std::optional<std::string>> reservation_owner(const std::string& key) override;
  Result<std::int64_t> counter(const std::string& key) override;
  Result<std::uint64_t> stream_version(const std::string& stream) override;
  Result<std::optional<AggregateSnapshot>> load_aggregate(const std::string& stream) override;
  Result<std::optional<StoredReply>> idempotent_reply(const std::string& key) override;
  PositionToken head() const override;
  std::uint64_t wait_past(std::uint32_t partition, std::uint64_t after, std::chrono::milliseconds timeout) override;
  PositionToken wait_moved(const PositionToken& seen, std::chrono::milliseconds timeout) override;
  void close() override;

  // The chain head of a partition (hash of its last entry; zero when empty).
  Hash chain_head(std::uint32_t partition) const override;

 private:
  class State;  // the LogState the writer places against (memory_log.cpp)

  struct Partition {
    std::vector<std::string> entries;  // stored values; position i + 1 at [i]
    Hash hash{};
  };

  void writer_loop();
  void apply(const PlacedGroup& placed);  // under mu_

  MemoryLogOptions opts_;
  SystemClock system_clock_;
  const Clock* clock_;

  mutable std::mutex mu_;
  std::condition_variable moved_;
  bool closed_ = false;
  std::vector<Partition> parts_;
  std::unordered_map<std::string, std::vector<LogAddress>> streams_;   // [version - 1]
  std::unordered_map<std::string, std::vector<LogAddress>> subjects_;  // ascending per partition
  std::unordered_map<std::string, std::string> unique_;
  std::unordered_map<std::string, std::int64_t> counters_;
  std::unordered_map<std::string, AggregateSnapshot> aggregates_;
  std::unordered_map<std::string, IdempotencyRecord> idempotency_;

  CommitQueue queue_;
  std::mutex close_mu_;
  std::thread writer_;
};

}  // namespace causeway
