// RocksEventLog: the writer thread and group commit.
//
// Every append is queued; the writer takes everything queued (up to max_group),
// checks each commit against the state as of the commits before it in the same
// group (expected versions, reservations, counter limits, idempotency keys), places the valid
// ones, and writes the whole group as one WriteBatch with sync = true. Only then
// does it publish the new head and call each `done`. A failed write fails every
// commit of the group and leaves the published state untouched.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <fmt/format.h>

#include "events/codec.h"
#include "events/rocks/keys.h"
#include "events/rocks/records.h"
#include "events/rocks/rocks_log.h"

namespace causeway {
using namespace rockskeys;

void RocksEventLog::append(Commit commit, AppendDone done) {
  {
    std::lock_guard lk(q_mu_);
    if (!closing_) {
      queue_.push_back(Pending{std::move(commit), std::move(done)});
      q_cv_.notify_one();
      return;
    }
  }
  done(Error::unavailable("the log is closed"));
}

void RocksEventLog::writer_loop() {
  std::vector<Pending> group;
  for (;;) {
    {
      std::unique_lock lk(q_mu_);
      q_cv_.wait(lk, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;  // closing and drained
      while (!queue_.empty() && group.size() < opts_.max_group) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    write_group(group);
    group.clear();
  }
}

Result<std::int64_t> RocksEventLog::counter_of(const std::string& key,
                                              const std::unordered_map<std::string, std::int64_t>& tentative) {
  if (auto it = tentative.find(key); it != tentative.end()) return it->second;
  if (auto it = counters_cache_.find(key); it != counters_cache_.end()) return it->second;
  return counter(key);
}

Error RocksEventLog::limit_error(const CounterAdd& add, std::int64_t usage) {
  std::string ext = add.hint.size() > 2 ? add.hint.substr(0, add.hint.size() - 1) + "," : std::string("{");
  ext += fmt::format(R"("metric":"{}","limit":{},"usage":{}}})", add.metric, add.limit, usage);
  return Error::limit_exceeded(
      fmt::format("the plan allows {} {} this month; {} are used", add.limit, add.metric, usage), std::move(ext));
}

namespace {
struct IdemSeen {
  std::string fingerprint;
  std::string response;
};
}  // namespace

void RocksEventLog::write_group(std::vector<Pending>& group) {
  const std::int64_t now = clock_->now_us();
  rocksdb::WriteBatch batch;
  std::uint64_t pos;
  Hash prev;
  {
    std::lock_guard lk(head_mu_);
    pos = head_pos_;
    prev = head_hash_;
  }
  std::unordered_map<std::string, std::uint64_t> heads;  // tentative stream heads of this group
  std::unordered_map<std::string, std::string> reserved;
  std::unordered_map<std::string, std::int64_t> counted;  // tentative counter values of this group
  std::unordered_map<std::string, IdemSeen> idem;
  std::vector<std::optional<Result<Committed>>> results(group.size());

  auto head_of = [&](const std::string& stream) -> Result<std::uint64_t> {
    if (auto it = heads.find(stream); it != heads.end()) return it->second;
    if (auto it = heads_cache_.find(stream); it != heads_cache_.end()) return it->second;
    auto v = stored_stream_version(stream);
    if (v) {
      if (heads_cache_.size() > 1'000'000) heads_cache_.clear();
      heads_cache_.emplace(stream, *v);
    }
    return v;
  };

  bool wrote_anything = false;
  for (std::size_t i = 0; i < group.size(); ++i) {
    Commit& c = group[i].commit;

    if (!c.idempotency_key.empty()) {
      std::optional<IdemSeen> seen;
      if (auto it = idem.find(c.idempotency_key); it != idem.end()) {
        seen = it->second;
      } else {
        std::string v;
        auto s = db_->Get(rocksdb::ReadOptions(), cfs_[kIdempotency], c.idempotency_key, &v);
        if (s.ok()) {
          auto rec = decode_idempotency(v);
          if (!rec) {
            results[i] = Error::corruption("an idempotency record does not decode");
            continue;
          }
          if (now - rec->created_at_us <= opts_.idempotency_retention_us)
            seen = IdemSeen{std::move(rec->fingerprint), std::move(rec->response)};
        } else if (!s.IsNotFound()) {
          results[i] = Error::unavailable("reading an idempotency key failed");
          continue;
        }
      }
      if (seen) {
        if (seen->fingerprint != c.fingerprint) {
          results[i] = Error::invalid("this Idempotency-Key was used with a different request");
        } else {
          Committed replay;
          replay.replayed = true;
          replay.response = std::move(seen->response);
          results[i] = std::move(replay);
        }
        continue;
      }
    }

    std::optional<Error> failed;
    for (const auto& ex : c.expect) {
      auto cur = head_of(ex.stream);
      if (!cur) { failed = std::move(cur).error(); break; }
      if (*cur != ex.version) {
        failed = Error::conflict(ex.version == 0
                                     ? fmt::format("stream {} already exists", ex.stream)
                                     : fmt::format("stream {} is at version {}, expected {}", ex.stream, *cur,
                                                   ex.version));
        break;
      }
    }
    for (std::size_t r = 0; !failed && r < c.reservations.size(); ++r) {
      const auto& res = c.reservations[r];
      std::string owner;
      if (auto it = reserved.find(res.key); it != reserved.end()) {
        owner = it->second;
      } else {
        auto s = db_->Get(rocksdb::ReadOptions(), cfs_[kUnique], res.key, &owner);
        if (!s.ok() && !s.IsNotFound()) { failed = Error::unavailable("reading a reservation failed"); break; }
      }
      if (!owner.empty() && owner != res.owner) failed = Error::conflict("the value is already taken", res.pointer);
    }
    std::vector<std::int64_t> totals(c.counters.size());
    for (std::size_t k = 0; !failed && k < c.counters.size(); ++k) {
      const auto& add = c.counters[k];
      auto cur = counter_of(add.key, counted);
      if (!cur) { failed = std::move(cur).error(); break; }
      // Counters of one key in one commit add up before the limit check.
      std::int64_t base = *cur;
      for (std::size_t j = 0; j < k; ++j)
        if (c.counters[j].key == add.key) base = totals[j];
      totals[k] = base + add.delta;
      if (add.limit >= 0 && totals[k] > add.limit) failed = limit_error(add, base);
    }
    if (failed) {
      results[i] = std::move(*failed);
      continue;
    }

    Committed out;
    for (auto& ne : c.events) {
      auto version = head_of(ne.stream);
      if (!version) { failed = std::move(version).error(); break; }
      Event e;
      static_cast<NewEvent&>(e) = std::move(ne);
      e.partition = 0;
      e.position = ++pos;
      e.stream_version = *version + 1;
      heads[e.stream] = e.stream_version;
      e.recorded_at_us = now;
      e.prev_hash = prev;
      std::string value = encode_entry(e);
      prev = e.hash;
      batch.Put(cfs_[kLog], be64(e.position), value);
      batch.Put(cfs_[kStreams], scoped(e.stream, e.stream_version), be64(e.position));
      for (const auto& s : e.subjects) batch.Put(cfs_[kSubjects], scoped(s, e.position), "");
      out.positions.push_back(e.position);
      out.stream_versions.push_back(e.stream_version);
    }
    if (failed) {
      // A stream head could not be read mid-commit: the group's tentative state is
      // now inconsistent, so fail the whole group rather than write part of it.
      for (auto& r : results) if (!r || r->ok()) r = Error::unavailable("log write aborted");
      batch.Clear();
      wrote_anything = false;
      break;
    }
    for (const auto& res : c.reservations) {
      batch.Put(cfs_[kUnique], res.key, res.owner);
      reserved[res.key] = res.owner;
    }
    for (std::size_t k = 0; k < c.counters.size(); ++k) {
      batch.Put(cfs_[kCounters], c.counters[k].key, be64(static_cast<std::uint64_t>(totals[k])));
      counted[c.counters[k].key] = totals[k];
    }
    for (const auto& a : c.aggregates) {
      auto v = head_of(a.stream);
      AggregateSnapshot snap{v ? *v : 0, a.format, a.bytes};
      batch.Put(cfs_[kAggregates], a.stream, encode_aggregate(snap));
    }
    out.token = PositionToken{{pos}};
    if (!c.idempotency_key.empty()) {
      out.response = c.make_response ? c.make_response(out) : std::string();
      batch.Put(cfs_[kIdempotency], c.idempotency_key, encode_idempotency({now, c.fingerprint, out.response}));
      idem[c.idempotency_key] = IdemSeen{c.fingerprint, out.response};
    }
    wrote_anything = true;
    results[i] = std::move(out);
  }

  if (wrote_anything) {
    std::string head = be64(pos);
    head.append(reinterpret_cast<const char*>(prev.data()), prev.size());
    batch.Put(cfs_[kMeta], "head", head);
    rocksdb::WriteOptions wo;
    wo.sync = opts_.sync;
    auto s = db_->Write(wo, &batch);
    if (!s.ok()) {
      for (auto& r : results)
        if (r && r->ok()) r = Error::unavailable("the log write failed; nothing was written");
      heads_cache_.clear();  // tentative heads never became real
    } else {
      for (auto& [stream, v] : heads) heads_cache_[stream] = v;
      if (counters_cache_.size() > 100'000) counters_cache_.clear();
      for (auto& [key, v] : counted) counters_cache_[key] = v;
      {
        std::lock_guard lk(head_mu_);
        head_pos_ = pos;
        head_hash_ = prev;
      }
      head_cv_.notify_all();
    }
  }
  for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(*results[i]));
}

}  // namespace causeway
