// verify_live: the live log's chains and signatures, in parallel slices.
//
// Each partition is its own chain, with its own checkpoints, checked in turn.
// A partition's positions [1, head] are cut into one slice per core. Each slice is read
// raw (EventLog::scan_raw) and checked on its own thread: BLAKE2b of every
// entry, gapless positions, every link inside the slice, and every checkpoint
// whose signed position lies in the slice. Then, in order, each slice's first
// link is checked against the previous slice's last hash, and the checkpoints
// that sign a position before their slice against that slice's recent hashes.
// The first bad position over all of it is the one reported.
#include <algorithm>
#include <thread>

#include "engine/audit/chain.h"
#include "events/codec.h"

namespace causeway::audit {
namespace {

struct Slice {
  std::uint32_t partition = 0;
  std::uint64_t from = 0, to = 0;
  Chain ch;
  bool started = false;
  Hash first_prev{}, last_hash{};
  std::vector<std::pair<std::uint64_t, std::string>> deferred;  // checkpoints signing before `from`
};

void verify_slice(EventLog& log, const PublicKey& key, Slice& s) {
  std::uint64_t expect = s.from;
  Hash prev{};
  s.ch.partition = s.partition;
  auto st = log.scan_raw(s.partition, s.from, s.to, [&](std::uint64_t position, std::string_view value) {
    if (position != expect)
      return s.ch.fail(fmt::format("gap: expected position {}, found {}", expect, position), expect);
    auto e = peek_entry(value, HashCheck::verify);
    if (!e) return s.ch.fail(e.error().message, position);
    if (e->position != position)
      return s.ch.fail(fmt::format("the entry stored at position {} says it is position {}", position, e->position),
                       position);
    if (!s.started) {
      s.started = true;
      s.first_prev = e->prev_hash;
    } else if (e->prev_hash != prev) {
      return s.ch.fail(fmt::format("chain broken: entry {} does not link to entry {}", position, position - 1),
                       position);
    }
    s.ch.remember(position, e->hash);
    if (e->type == kCheckpointType) {
      auto full = decode_entry(value, HashCheck::trust);
      if (!full) return s.ch.fail(full.error().message, position);
      boost::system::error_code ec;
      auto d = boost::json::parse(full->data, ec);
      auto c = ec || !d.is_object() ? Result<Checkpoint>(Error::corruption("a checkpoint's payload is not JSON"))
                                    : checkpoint_from_json(d.as_object());
      if (c && c->position < s.from)
        s.deferred.emplace_back(position, std::move(full->data));
      else if (!s.ch.check_checkpoint(full->data, position, key))
        return false;
    }
    prev = e->hash;
    s.last_hash = e->hash;
    ++expect;
    ++s.ch.r.records;
    return true;
  });
  if (!st && !s.ch.r.problem) s.ch.fail(st.error().message, expect);
  if (!s.ch.r.problem && expect != s.to + 1)
    s.ch.fail(fmt::format("the log ends at position {} but its head is {}", expect - 1, s.to), expect);
}

// One partition's chain, `head` entries long.
AuditReport verify_partition(EventLog& log, const PublicKey& key, std::uint32_t partition, std::uint64_t head,
                             unsigned threads) {
  AuditReport out;
  if (head == 0) return out;
  // Small logs are not worth a thread; past that, one slice per core.
  std::uint64_t n = threads != 0 ? threads
                   : head < 100'000 ? 1
                                    : std::clamp<std::uint64_t>(std::thread::hardware_concurrency(), 1, 8);
  n = std::min(n, head);
  std::vector<Slice> slices(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    slices[i].partition = partition;
    slices[i].from = 1 + head * i / n;
    slices[i].to = head * (i + 1) / n;
  }
  std::vector<std::thread> workers;
  for (std::uint64_t i = 1; i < n; ++i) workers.emplace_back([&, i] { verify_slice(log, key, slices[i]); });
  verify_slice(log, key, slices[0]);
  for (auto& t : workers) t.join();

  // Every problem found, by position; the first one is reported.
  std::optional<std::pair<std::uint64_t, std::string>> first;
  auto consider = [&](std::uint64_t position, const std::string& why) {
    if (!first || position < first->first) first.emplace(position, why);
  };
  const Hash zero{};
  for (std::uint64_t i = 0; i < n; ++i) {
    Slice& s = slices[i];
    if (s.ch.r.problem) consider(s.ch.r.problem_position, *s.ch.r.problem);
    if (s.started && s.first_prev != (i == 0 ? zero : slices[i - 1].last_hash))
      consider(s.from, fmt::format("chain broken: entry {} does not link to entry {}", s.from, s.from - 1));
    for (auto& [at, data] : s.deferred) {
      if (i == 0) continue;
      Chain before;  // the previous slice's recent hashes
      before.partition = partition;
      before.ring = slices[i - 1].ch.ring;
      before.newest = slices[i - 1].ch.newest;
      before.count = slices[i - 1].ch.count;
      if (!before.check_checkpoint(data, at, key)) consider(before.r.problem_position, *before.r.problem);
      s.ch.r.checkpoints += before.r.checkpoints;
      s.ch.r.signed_to = std::max(s.ch.r.signed_to, before.r.signed_to);
    }
    out.records += s.ch.r.records;
    out.checkpoints += s.ch.r.checkpoints;
    out.signed_to = std::max(out.signed_to, s.ch.r.signed_to);
  }
  if (first) {
    out.problem = first->second;
    out.problem_position = first->first;
    out.records = first->first - 1;
  }
  return out;
}

}  // namespace

AuditReport verify_live(EventLog& log, const PublicKey& key, unsigned threads) {
  const PositionToken head = log.head();
  AuditReport out;
  for (std::uint32_t p = 0; p < head.offsets.size(); ++p) {
    AuditReport r = verify_partition(log, key, p, head.offsets[p], threads);
    out.records += r.records;
    out.events += r.events;
    out.checkpoints += r.checkpoints;
    out.signed_to = std::max(out.signed_to, r.signed_to);
    out.signed_each.offsets.push_back(r.signed_to);
    if (r.problem && !out.problem) {
      out.problem = std::move(r.problem);
      out.problem_position = r.problem_position;
      out.problem_partition = p;
    }
  }
  return out;
}

}  // namespace causeway::audit
