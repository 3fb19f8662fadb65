#include "events/group_placement.h"

#include <fmt/format.h>

#include "events/codec.h"

namespace causeway {

Error limit_error(const CounterAdd& add, std::int64_t usage) {
  std::string ext = add.hint.size() > 2 ? add.hint.substr(0, add.hint.size() - 1) + "," : std::string("{");
  ext += fmt::format(R"("metric":"{}","limit":{},"usage":{}}})", add.metric, add.limit, usage);
  return Error::limit_exceeded(
      fmt::format("the plan allows {} {} this month; {} are used", add.limit, add.metric, usage), std::move(ext));
}

namespace {

// The state as the durable state changed by the group's placed commits.
class Tentative {
 public:
  Tentative(LogState& state, const PlacementRules& rules) : state_(state), rules_(rules) {}

  Result<std::uint64_t> stream_version(const std::string& stream) {
    if (auto it = versions.find(stream); it != versions.end()) return it->second;
    return state_.stream_version(stream);
  }
  Result<std::string> reservation_owner(const std::string& key) {
    if (auto it = reserved.find(key); it != reserved.end()) return it->second;
    auto owner = state_.reservation_owner(key);
    if (!owner) return Error::unavailable("reading a reservation failed");
    return owner->value_or(std::string());
  }
  Result<std::int64_t> counter(const std::string& key) {
    if (auto it = counted.find(key); it != counted.end()) return it->second;
    return state_.counter(key);
  }
  // The reply an idempotency key replays, if any (within the retention window).
  Result<std::optional<IdempotencyRecord>> idempotency(const std::string& key) {
    if (auto it = idem.find(key); it != idem.end()) return std::optional<IdempotencyRecord>(it->second);
    auto rec = state_.idempotency(key);
    if (!rec) return std::move(rec).error();
    if (*rec && rules_.now_us - (*rec)->created_at_us > rules_.idempotency_retention_us)
      return std::optional<IdempotencyRecord>();
    return rec;
  }

  std::unordered_map<std::string, std::uint64_t> versions;
  std::unordered_map<std::string, std::string> reserved;
  std::unordered_map<std::string, std::int64_t> counted;
  std::unordered_map<std::string, IdempotencyRecord> idem;

 private:
  LogState& state_;
  const PlacementRules& rules_;
};

// Expected versions, reservations and counter limits; the counters' new totals.
std::optional<Error> check(const Commit& c, Tentative& t, std::vector<std::int64_t>& totals) {
  for (const auto& ex : c.expect) {
    auto cur = t.stream_version(ex.stream);
    if (!cur) return std::move(cur).error();
    if (*cur != ex.version)
      return Error::conflict(ex.version == 0 ? fmt::format("stream {} already exists", ex.stream)
                                             : fmt::format("stream {} is at version {}, expected {}", ex.stream,
                                                           *cur, ex.version));
  }
  for (const auto& res : c.reservations) {
    auto owner = t.reservation_owner(res.key);
    if (!owner) return std::move(owner).error();
    if (!owner->empty() && *owner != res.owner) return Error::conflict("the value is already taken", res.pointer);
  }
  totals.assign(c.counters.size(), 0);
  for (std::size_t k = 0; k < c.counters.size(); ++k) {
    const auto& add = c.counters[k];
    auto cur = t.counter(add.key);
    if (!cur) return std::move(cur).error();
    // Counters of one key in one commit add up before the limit check.
    std::int64_t base = *cur;
    for (std::size_t j = 0; j < k; ++j)
      if (c.counters[j].key == add.key) base = totals[j];
    totals[k] = base + add.delta;
    if (add.limit >= 0 && totals[k] > add.limit) return limit_error(add, base);
  }
  return std::nullopt;
}

}  // namespace

PlacedGroup place_group(std::vector<Commit>& commits, LogState& state, std::vector<PartitionHead> heads,
                        const PlacementRules& rules) {
  PlacedGroup out;
  out.results.reserve(commits.size());
  Tentative t(state, rules);
  bool placed_any = false;
  for (Commit& c : commits) {
    if (!c.idempotency_key.empty()) {
      auto seen = t.idempotency(c.idempotency_key);
      if (!seen) {
        out.results.push_back(std::move(seen).error());
        continue;
      }
      if (*seen) {
        if ((*seen)->fingerprint != c.fingerprint) {
          out.results.push_back(Error::invalid("this Idempotency-Key was used with a different request"));
        } else {
          Committed replay;
          replay.replayed = true;
          replay.response = (*seen)->response;
          out.results.push_back(std::move(replay));
        }
        continue;
      }
    }
    std::vector<std::int64_t> totals;
    if (auto refused = check(c, t, totals)) {
      out.results.push_back(std::move(*refused));
      continue;
    }

    Committed done;
    for (auto& ne : c.events) {
      auto version = t.stream_version(ne.stream);
      if (!version) {
        // The group's tentative state can no longer be trusted: write none of it.
        PlacedGroup failed;
        failed.results.assign(commits.size(), Error::unavailable("log write aborted"));
        return failed;
      }
      Event e;
      static_cast<NewEvent&>(e) = std::move(ne);
      e.partition = rules.partition_of(e.stream);
      auto& head = heads.at(e.partition);
      e.position = ++head.position;
      e.stream_version = *version + 1;
      t.versions[e.stream] = e.stream_version;
      e.recorded_at_us = rules.now_us;
      e.prev_hash = head.hash;
      std::string value = encode_entry(e);
      head.hash = e.hash;
      done.positions.push_back(e.position);
      done.stream_versions.push_back(e.stream_version);
      out.entries.push_back(PlacedEntry{std::move(e), std::move(value)});
    }
    for (const auto& res : c.reservations) {
      out.reservations.emplace_back(res.key, res.owner);
      t.reserved[res.key] = res.owner;
    }
    for (std::size_t k = 0; k < c.counters.size(); ++k) {
      out.counters.emplace_back(c.counters[k].key, totals[k]);
      t.counted[c.counters[k].key] = totals[k];
    }
    for (const auto& a : c.aggregates) {
      auto v = t.stream_version(a.stream);
      out.aggregates.emplace_back(a.stream, AggregateSnapshot{v ? *v : 0, a.format, a.bytes});
    }
    for (const auto& h : heads) done.token.offsets.push_back(h.position);
    if (!c.idempotency_key.empty()) {
      done.response = c.make_response ? c.make_response(done) : std::string();
      IdempotencyRecord rec{rules.now_us, c.fingerprint, done.response};
      out.idempotency.emplace_back(c.idempotency_key, rec);
      t.idem[c.idempotency_key] = std::move(rec);
    }
    placed_any = true;
    out.results.push_back(std::move(done));
  }
  if (placed_any) {
    out.heads = std::move(heads);
    out.stream_versions = std::move(t.versions);
  }
  return out;
}

}  // namespace causeway
