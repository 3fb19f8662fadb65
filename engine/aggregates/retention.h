// Retention policies (issue: compliance) — stream "retention-<scope>", where the
// scope is an organization id (that tenant's policies) or "all" (the default
// for every tenant, and for events that belong to no tenant). Pure functions.
//
// A policy says: personal data in events of `category` (the part of the event
// type before the first dot, e.g. "user", "session") expires `max_age_days`
// after the day it was recorded. A tenant's policy for a category overrides the
// default one. Enforcement never touches the log: each day's personal fields
// of one tenant and category are sealed under a retention bucket key
// (events/key_vault.h); the sweeper (engine/retention/sweeper.h) records
// retention.enforced on the bucket's scope stream, then destroys the key.
//
// Events (no personal data; subjects none):
//   retention.policy_set      {scope, category, max_age_days, reason}
//   retention.policy_removed  {scope, category, reason}
//   retention.enforced        {scope, category, day, bucket, max_age_days, policy}
// Setting the same policy again, removing a missing one, or enforcing a day
// twice writes nothing.
#pragma once

#include <cereal/types/map.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "engine/decision.h"
#include "events/result.h"

namespace causeway::retention {

struct State {
  std::map<std::string, std::int64_t> max_age_days;        // category -> days
  std::map<std::string, std::set<std::int32_t>> enforced;  // category -> enforced days (since the epoch)
  template <class Ar>
  void serialize(Ar& ar) { ar(max_age_days, enforced); }
};
inline constexpr std::uint32_t kStateFormat = 1;

// "retention-<scope>"; scope is "all" or an organization id.
std::string stream_of(const std::string& scope);
// The tenant whose audit trail holds the scope's events ("" for "all").
std::string tenant_of_scope(const std::string& scope);

// `known` tells whether a category names events the engine writes.
Result<Decision> decide_set(const State& s, const std::string& scope, const std::string& category,
                            std::int64_t max_age_days, const std::string& reason, bool known);
// Removing a policy that is not there writes nothing, unless the category is
// not `known` either: that is refused like decide_set (a policy stored for a
// category that is gone can still be removed).
Result<Decision> decide_remove(const State& s, const std::string& scope, const std::string& category,
                               const std::string& reason, bool known);
// `day` is days since the epoch; `policy` is "tenant" or "default".
Result<Decision> decide_enforce(const State& s, const std::string& scope, const std::string& category,
                                std::int32_t day, std::int64_t max_age_days, const std::string& policy);
struct Bucket;  // engine/retention/buckets.h
struct Applicable {
  std::int64_t max_age_days;
  const char* policy;  // "tenant" or "default"
};
// The policy governing `bucket`: the tenant's (`own`, the state of the
// bucket's scope) for its category, else the default (`all`); none: kept.
std::optional<Applicable> policy_for(const State& own, const State& all, const Bucket& bucket);

void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

}  // namespace causeway::retention
