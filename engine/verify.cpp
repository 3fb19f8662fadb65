#include "engine/verify.h"

#include <fmt/format.h>

#include "engine/aggregate_store.h"
#include "engine/commands/traits.h"
#include "events/codec.h"

namespace causeway {

VerifyReport verify_chain(EventLog& log, std::uint32_t partition, std::uint64_t head, const Hash& head_hash,
                          const Progress& progress) {
  VerifyReport r;
  Hash prev{};
  std::uint64_t expect = 1;
  for (;;) {
    auto batch = log.read_forward(partition, expect, 4096);
    if (!batch) {
      // Narrow the failing batch down to the first entry that does not decode.
      std::uint64_t bad = expect;
      for (;; ++bad) {
        auto one = log.read_forward(partition, bad, 1);
        if (!one || one->empty()) break;
      }
      r.problem = batch.error().message;
      r.problem_position = bad;
      return r;
    }
    for (const auto& e : *batch) {
      if (e.position != expect) {
        r.problem = fmt::format("gap: expected position {}, found {}", expect, e.position);
        r.problem_position = expect;
        return r;
      }
      if (e.prev_hash != prev) {
        r.problem = fmt::format("chain broken: entry {} does not link to entry {}", e.position, e.position - 1);
        r.problem_position = e.position;
        return r;
      }
      prev = e.hash;
      ++expect;
      ++r.events;
    }
    if (progress) progress(r.events, head);
    if (batch->size() < 4096) break;
  }
  if (r.events != head) {
    r.problem = fmt::format("the stored head is {} but the log ends at {}", head, r.events);
    r.problem_position = r.events + 1;
  } else if (prev != head_hash) {
    r.problem = "the stored chain head does not match the last entry";
    r.problem_position = head;
  }
  return r;
}

namespace {
template <class A>
Result<std::string> refold(AggregateStore& store, const std::string& stream) {
  auto loaded = store.load<A>(stream);
  if (!loaded) return std::move(loaded).error();
  return AggregateStore::encode(loaded->state);
}

// Reads nothing from the aggregate records: an empty-named traits wrapper makes
// AggregateStore fold events, since no stored record ever has format 0.
template <class A>
struct Refold : A {
  static constexpr std::uint32_t kStateFormat = 0;
};
}  // namespace

namespace {
// Every aggregate kind by its stream prefix. A new aggregate must be added
// here, or `causeway log verify` reports its streams as an unknown kind.
struct AggregateKind {
  const char* prefix;
  Result<std::string> (*refold)(AggregateStore&, const std::string&);
  std::uint32_t format;
};
template <class A>
constexpr AggregateKind kind(const char* prefix) {
  return {prefix, &refold<Refold<A>>, A::kStateFormat};
}
constexpr AggregateKind kAggregateKinds[] = {
    kind<UserAggregate>("user-"),          kind<OrganizationAggregate>("org-"),
    kind<ApiKeyAggregate>("key-"),         kind<SubjectAggregate>("subject-"),
    kind<DsrAggregate>("dsr-"),            kind<SessionAggregate>("session-"),
    kind<RetentionAggregate>("retention-"), kind<WorkflowAggregate>("workflow-"),
    kind<RunAggregate>("run-"),            kind<SubscriptionAggregate>("subscription-"),
    kind<InboxAggregate>("inbox-"),
};
}  // namespace

VerifyReport verify_aggregates(EventLog& log, const Upcaster& upcaster,
                               const std::vector<std::pair<std::string, AggregateSnapshot>>& records,
                               const Progress& progress) {
  VerifyReport r;
  AggregateStore store(log, upcaster, 0);
  for (const auto& [stream, snap] : records) {
    Result<std::string> folded = Error::invalid("unknown aggregate kind");
    std::uint32_t format = 0;
    for (const auto& kind : kAggregateKinds)
      if (stream.rfind(kind.prefix, 0) == 0) {
        folded = kind.refold(store, stream);
        format = kind.format;
        break;
      }
    if (!folded) {
      r.problem = fmt::format("{}: {}", stream, folded.error().message);
      return r;
    }
    auto version = log.stream_version(stream);
    if (!version || *version != snap.version) {
      r.problem = fmt::format("{}: stored state is at version {}, the stream at {}", stream, snap.version,
                              version ? *version : 0);
      return r;
    }
    // A record in an older state format is refolded on load; only compare like with like.
    const bool same_format = snap.format == format;
    if (same_format && *folded != snap.bytes) {
      r.problem = fmt::format("{}: stored state differs from the state its events give", stream);
      return r;
    }
    ++r.aggregates;
    if (progress && r.aggregates % 1024 == 0) progress(r.aggregates, records.size());
  }
  if (progress) progress(r.aggregates, records.size());
  return r;
}

}  // namespace causeway
