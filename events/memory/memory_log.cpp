#include "events/memory/memory_log.h"

#include <algorithm>

#include "events/codec.h"
#include "events/placement.h"

namespace causeway {

// The log's maps as the writer reads them (it holds no lock: only the writer
// mutates, and readers lock mu_ to read).
class MemoryEventLog::State final : public LogState {
 public:
  explicit State(MemoryEventLog& log) : log_(log) {}
  Result<std::uint64_t> stream_version(const std::string& stream) override { return log_.stream_version(stream); }
  Result<std::optional<std::string>> reservation_owner(const std::string& key) override {
    return log_.reservation_owner(key);
  }
  Result<std::int64_t> counter(const std::string& key) override { return log_.counter(key); }
  Result<std::optional<IdempotencyRecord>> idempotency(const std::string& key) override {
    std::lock_guard lk(log_.mu_);
    auto it = log_.idempotency_.find(key);
    if (it == log_.idempotency_.end()) return std::optional<IdempotencyRecord>();
    return std::optional<IdempotencyRecord>(it->second);
  }

 private:
  MemoryEventLog& log_;
};

MemoryEventLog::MemoryEventLog(MemoryLogOptions opts)
    : opts_(std::move(opts)),
      clock_(opts_.clock ? opts_.clock : &system_clock_),
      parts_(std::max<std::uint32_t>(opts_.partitions, 1)),
      queue_(opts_.max_group) {
  if (opts_.partitions == 0) opts_.partitions = 1;
  if (!opts_.placement) opts_.placement = placement_of;
  writer_ = std::thread([this] { writer_loop(); });
}

MemoryEventLog::~MemoryEventLog() { close(); }

std::uint32_t MemoryEventLog::partition_of(std::string_view stream) const {
  return opts_.placement(stream, opts_.partitions);
}

void MemoryEventLog::append(Commit commit, AppendDone done) { queue_.push(std::move(commit), std::move(done)); }

void MemoryEventLog::writer_loop() {
  for (;;) {
    auto group = queue_.next_group();
    if (group.empty()) return;
    std::vector<Commit> commits;
    commits.reserve(group.size());
    for (auto& p : group) commits.push_back(std::move(p.commit));
    std::vector<PartitionHead> heads;
    {
      std::lock_guard lk(mu_);
      for (const auto& p : parts_) heads.push_back(PartitionHead{p.entries.size(), p.hash});
    }
    PlacementRules rules{[this](std::string_view s) { return partition_of(s); }, clock_->now_us(),
                         opts_.idempotency_retention_us};
    State state(*this);
    PlacedGroup placed = place_group(commits, state, std::move(heads), rules);
    if (placed.writes()) {
      {
        std::lock_guard lk(mu_);
        apply(placed);
      }
      moved_.notify_all();
    }
    for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(placed.results[i]));
  }
}

void MemoryEventLog::apply(const PlacedGroup& placed) {
  for (const auto& [e, value] : placed.entries) {
    parts_[e.partition].entries.push_back(value);
    LogAddress at{e.partition, e.position};
    streams_[e.stream].push_back(at);
    for (const auto& s : e.subjects) subjects_[s].push_back(at);
  }
  for (std::size_t p = 0; p < parts_.size(); ++p) parts_[p].hash = placed.heads[p].hash;
  for (const auto& [key, owner] : placed.reservations) unique_[key] = owner;
  for (const auto& [key, total] : placed.counters) counters_[key] = total;
  for (const auto& [stream, snap] : placed.aggregates) aggregates_[stream] = snap;
  for (const auto& [key, rec] : placed.idempotency) idempotency_[key] = rec;
}

void MemoryEventLog::close() {
  std::lock_guard cl(close_mu_);
  queue_.close();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lk(mu_);
    closed_ = true;
  }
  moved_.notify_all();
}

Result<std::vector<Event>> MemoryEventLog::read_forward(std::uint32_t partition, std::uint64_t from, std::size_t max,
                                                        HashCheck check) {
  std::vector<std::string> values;
  auto st = scan_raw(partition, from, UINT64_MAX, [&](std::uint64_t, std::string_view value) {
    values.emplace_back(value);
    return values.size() < max;
  });
  if (!st) return std::move(st).error();
  std::vector<Event> out;
  out.reserve(values.size());
  for (const auto& value : values) {
    auto e = decode_entry(value, check);
    if (!e) return std::move(e).error();
    out.push_back(std::move(e).value());
  }
  return out;
}

Status MemoryEventLog::scan_raw(std::uint32_t partition, std::uint64_t from, std::uint64_t to,
                                const std::function<bool(std::uint64_t, std::string_view)>& fn) {
  if (partition >= parts_.size()) return Error::invalid("no such partition");
  std::lock_guard lk(mu_);
  if (closed_) return Error::unavailable("the log is closed");
  const auto& entries = parts_[partition].entries;
  for (std::uint64_t pos = std::max<std::uint64_t>(from, 1); pos <= entries.size() && pos <= to; ++pos)
    if (!fn(pos, entries[pos - 1])) break;  // (fn must not call back into the log)
  return ok_status();
}

Result<std::vector<Event>> MemoryEventLog::read_stream(const std::string& stream, std::uint64_t from_version,
                                                       std::size_t max) {
  std::vector<std::string> values;
  {
    std::lock_guard lk(mu_);
    if (closed_) return Error::unavailable("the log is closed");
    auto it = streams_.find(stream);
    if (it == streams_.end()) return std::vector<Event>();
    for (std::uint64_t v = std::max<std::uint64_t>(from_version, 1); v <= it->second.size() && values.size() < max;
         ++v) {
      const auto& at = it->second[v - 1];
      values.push_back(parts_[at.partition].entries[at.position - 1]);
    }
  }
  std::vector<Event> out;
  for (const auto& value : values) {
    auto e = decode_entry(value);
    if (!e) return std::move(e).error();
    out.push_back(std::move(e).value());
  }
  return out;
}

Result<std::vector<LogAddress>> MemoryEventLog::subject_positions(const std::string& subject) {
  std::lock_guard lk(mu_);
  if (closed_) return Error::unavailable("the log is closed");
  auto it = subjects_.find(subject);
  if (it == subjects_.end()) return std::vector<LogAddress>();
  auto out = it->second;
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::optional<std::string>> MemoryEventLog::reservation_owner(const std::string& key) {
  std::lock_guard lk(mu_);
  auto it = unique_.find(key);
  if (it == unique_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<std::int64_t> MemoryEventLog::counter(const std::string& key) {
  std::lock_guard lk(mu_);
  auto it = counters_.find(key);
  return it == counters_.end() ? std::int64_t{0} : it->second;
}

Result<std::uint64_t> MemoryEventLog::stream_version(const std::string& stream) {
  std::lock_guard lk(mu_);
  auto it = streams_.find(stream);
  return it == streams_.end() ? std::uint64_t{0} : std::uint64_t{it->second.size()};
}

Result<std::optional<AggregateSnapshot>> MemoryEventLog::load_aggregate(const std::string& stream) {
  std::lock_guard lk(mu_);
  auto it = aggregates_.find(stream);
  if (it == aggregates_.end()) return std::optional<AggregateSnapshot>();
  return std::optional<AggregateSnapshot>(it->second);
}

Result<std::optional<EventLog::StoredReply>> MemoryEventLog::idempotent_reply(const std::string& key) {
  std::lock_guard lk(mu_);
  auto it = idempotency_.find(key);
  if (it == idempotency_.end() || clock_->now_us() - it->second.created_at_us > opts_.idempotency_retention_us)
    return std::optional<StoredReply>();
  return std::optional<StoredReply>(StoredReply{it->second.fingerprint, it->second.response});
}

PositionToken MemoryEventLog::head() const {
  std::lock_guard lk(mu_);
  PositionToken t;
  for (const auto& p : parts_) t.offsets.push_back(p.entries.size());
  return t;
}

Hash MemoryEventLog::chain_head(std::uint32_t partition) const {
  std::lock_guard lk(mu_);
  return parts_.at(partition).hash;
}

std::uint64_t MemoryEventLog::wait_past(std::uint32_t partition, std::uint64_t after,
                                        std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  const auto& entries = parts_.at(partition).entries;
  moved_.wait_for(lk, timeout, [&] { return entries.size() > after || closed_; });
  return entries.size();
}

PositionToken MemoryEventLog::wait_moved(const PositionToken& seen, std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  auto passed = [&] {
    for (std::size_t p = 0; p < parts_.size(); ++p)
      if (parts_[p].entries.size() > (p < seen.offsets.size() ? seen.offsets[p] : 0)) return true;
    return closed_;
  };
  moved_.wait_for(lk, timeout, passed);
  PositionToken t;
  for (const auto& p : parts_) t.offsets.push_back(p.entries.size());
  return t;
}

}  // namespace causeway
