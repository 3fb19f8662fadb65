#include "engine/aggregates/retention.h"

#include <fmt/format.h>

#include "engine/retention/buckets.h"
#include "events/json_fields.h"

namespace causeway::retention {

std::string stream_of(const std::string& scope) { return "retention-" + scope; }

std::string tenant_of_scope(const std::string& scope) { return scope == "all" ? std::string() : scope; }

namespace {

DraftEvent event(const char* type, const std::string& scope, const std::string& category) {
  DraftEvent e;
  e.type = type;
  e.data["scope"] = scope;
  e.data["category"] = category;
  return e;
}

}  // namespace

Result<Decision> decide_set(const State& s, const std::string& scope, const std::string& category,
                            std::int64_t max_age_days, const std::string& reason, bool known) {
  if (!known) return Error::invalid(fmt::format("no event type has the category {}", category), "/category");
  Decision d;
  if (auto it = s.max_age_days.find(category); it != s.max_age_days.end() && it->second == max_age_days) return d;
  auto e = event("retention.policy_set", scope, category);
  e.data["max_age_days"] = max_age_days;
  e.data["reason"] = reason;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_remove(const State& s, const std::string& scope, const std::string& category,
                               const std::string& reason, bool known) {
  Decision d;
  if (!s.max_age_days.contains(category)) {
    if (!known) return Error::invalid(fmt::format("no event type has the category {}", category), "/category");
    return d;
  }
  auto e = event("retention.policy_removed", scope, category);
  e.data["reason"] = reason;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_enforce(const State& s, const std::string& scope, const std::string& category,
                                std::int32_t day, std::int64_t max_age_days, const std::string& policy) {
  Decision d;
  if (auto it = s.enforced.find(category); it != s.enforced.end() && it->second.contains(day)) return d;
  auto e = event("retention.enforced", scope, category);
  e.data["day"] = date_of(day);
  e.data["bucket"] = bucket_id(Bucket{day, tenant_of_scope(scope), category});
  e.data["max_age_days"] = max_age_days;
  e.data["policy"] = policy;
  d.events.push_back(std::move(e));
  return d;
}

std::optional<Applicable> policy_for(const State& own, const State& all, const Bucket& bucket) {
  if (!bucket.tenant.empty())
    if (auto it = own.max_age_days.find(bucket.category); it != own.max_age_days.end())
      return Applicable{it->second, "tenant"};
  if (auto it = all.max_age_days.find(bucket.category); it != all.max_age_days.end())
    return Applicable{it->second, "default"};
  return std::nullopt;
}

void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t) {
  const std::string category = string_field(data, "category");
  if (type == "retention.policy_set") {
    auto* v = data.if_contains("max_age_days");
    s.max_age_days[category] = v && v->is_int64() ? v->as_int64() : 0;
  } else if (type == "retention.policy_removed") {
    s.max_age_days.erase(category);
  } else if (type == "retention.enforced") {
    if (auto day = parse_date(string_field(data, "day"))) s.enforced[category].insert(*day);
  }
}

}  // namespace causeway::retention
