// RocksEventLog: the writer thread and group commit.
//
// Every append is queued (CommitQueue); the writer takes everything queued (up
// to max_group), has place_group() check and place it against the database as
// of the commits before each in the same group (events/group_placement.h), and
// writes the placed result as one WriteBatch with sync = true. Only then does
// it publish the new head and call each `done`. A failed write fails every
// commit of the group and leaves the published state untouched.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <fmt/format.h>

#include "events/group_placement.h"
#include "events/records.h"
#include "events/rocks/keys.h"
#include "events/rocks/rocks_log.h"

namespace causeway {
using namespace rockskeys;

void RocksEventLog::append(Commit commit, AppendDone done) { queue_.push(std::move(commit), std::move(done)); }

void RocksEventLog::writer_loop() {
  for (;;) {
    auto group = queue_.next_group();
    if (group.empty()) return;  // closing and drained
    write_group(group);
  }
}

// The database as the writer reads it, with its caches of stream heads and
// counters (the writer's own writes, kept after each durable group).
class RocksEventLog::WriterState final : public LogState {
 public:
  explicit WriterState(RocksEventLog& log) : log_(log) {}
  Result<std::uint64_t> stream_version(const std::string& stream) override {
    if (auto it = log_.heads_cache_.find(stream); it != log_.heads_cache_.end()) return it->second;
    auto v = log_.stored_stream_version(stream);
    if (v) {
      if (log_.heads_cache_.size() > 1'000'000) log_.heads_cache_.clear();
      log_.heads_cache_.emplace(stream, *v);
    }
    return v;
  }
  Result<std::optional<std::string>> reservation_owner(const std::string& key) override {
    return log_.reservation_owner(key);
  }
  Result<std::int64_t> counter(const std::string& key) override {
    if (auto it = log_.counters_cache_.find(key); it != log_.counters_cache_.end()) return it->second;
    return log_.counter(key);
  }
  Result<std::optional<IdempotencyRecord>> idempotency(const std::string& key) override {
    std::string v;
    auto s = log_.db_->Get(rocksdb::ReadOptions(), log_.cfs_[kIdempotency], key, &v);
    if (s.IsNotFound()) return std::optional<IdempotencyRecord>();
    if (!s.ok()) return Error::unavailable("reading an idempotency key failed");
    auto rec = decode_idempotency(v);
    if (!rec) return Error::corruption("an idempotency record does not decode");
    return std::optional<IdempotencyRecord>(std::move(*rec));
  }

 private:
  RocksEventLog& log_;
};

void RocksEventLog::write_group(std::vector<CommitQueue::Pending>& group) {
  std::vector<Commit> commits;
  commits.reserve(group.size());
  for (auto& p : group) commits.push_back(std::move(p.commit));
  PlacementRules rules{[](std::string_view) { return std::uint32_t{0}; }, clock_->now_us(),
                       opts_.idempotency_retention_us};
  std::vector<PartitionHead> heads;
  {
    std::lock_guard lk(head_mu_);
    heads.push_back(PartitionHead{head_pos_, head_hash_});
  }
  WriterState state(*this);
  PlacedGroup placed = place_group(commits, state, std::move(heads), rules);

  if (placed.writes()) {
    rocksdb::WriteBatch batch;
    for (const auto& [e, value] : placed.entries) {
      batch.Put(cfs_[kLog], be64(e.position), value);
      batch.Put(cfs_[kStreams], scoped(e.stream, e.stream_version), be64(e.position));
      for (const auto& s : e.subjects) batch.Put(cfs_[kSubjects], scoped(s, e.position), "");
    }
    for (const auto& [key, owner] : placed.reservations) batch.Put(cfs_[kUnique], key, owner);
    for (const auto& [key, total] : placed.counters)
      batch.Put(cfs_[kCounters], key, be64(static_cast<std::uint64_t>(total)));
    for (const auto& [stream, snap] : placed.aggregates) batch.Put(cfs_[kAggregates], stream, encode_aggregate(snap));
    for (const auto& [key, rec] : placed.idempotency) batch.Put(cfs_[kIdempotency], key, encode_idempotency(rec));
    const PartitionHead& head = placed.heads.at(0);
    std::string meta = be64(head.position);
    meta.append(reinterpret_cast<const char*>(head.hash.data()), head.hash.size());
    batch.Put(cfs_[kMeta], "head", meta);
    rocksdb::WriteOptions wo;
    wo.sync = opts_.sync;
    auto s = db_->Write(wo, &batch);
    if (!s.ok()) {
      for (auto& r : placed.results)
        if (r.ok()) r = Error::unavailable("the log write failed; nothing was written");
      heads_cache_.clear();  // tentative heads never became real
    } else {
      for (auto& [stream, v] : placed.stream_versions) heads_cache_[stream] = v;
      if (counters_cache_.size() > 100'000) counters_cache_.clear();
      for (auto& [key, v] : placed.counters) counters_cache_[key] = v;
      {
        std::lock_guard lk(head_mu_);
        head_pos_ = head.position;
        head_hash_ = head.hash;
      }
      head_cv_.notify_all();
    }
  }
  for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(placed.results[i]));
}

}  // namespace causeway
