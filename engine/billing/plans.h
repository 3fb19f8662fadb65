// Plans, limits, features and feature flags: the billing configuration.
//
// The default is schemas/billing/plans.json (embedded); `--plans FILE` replaces
// it. Either is checked against schemas/billing/plans.schema.json, and every
// problem is reported with its JSON pointer. A limit of -1 is unlimited.
//
// Feature flags (docs/billing.md): a flag is on for an organization when an
// override says so, else when the organization's plan is one of the flag's
// plans, else for `rollout_percent` of subjects. A flag with variants assigns
// each subject one variant by weight. Assignment is deterministic: the bucket
// of (flag, subject) is the SHA-256 of both, so the same subject always gets
// the same answer on every server.
//
// Thread safety: immutable after parse(); share it freely.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/schema_registry.h"
#include "events/result.h"

namespace causeway::billing {

enum class Metric { seats, workflow_runs, events, api_calls };
inline constexpr std::array<Metric, 4> kMetrics = {Metric::seats, Metric::workflow_runs, Metric::events,
                                                   Metric::api_calls};
// "seats", "workflow_runs", "events", "api_calls": the counter's name.
const char* metric_name(Metric m);
// The limit's name in the configuration: "workflow_runs_per_month", ...
const char* limit_name(Metric m);

struct Limits {
  std::int64_t seats = -1, workflow_runs = -1, events = -1, api_calls = -1;
  std::int64_t of(Metric m) const;
};

struct PlanSpec {
  std::string name;
  std::int64_t tier = 0;
  bool trial = false;  // a trial of this plan may be started
  Limits limits;
  std::set<std::string> features;
};

struct Variant {
  std::string name;
  std::int64_t weight = 0;
};

struct FlagSpec {
  std::string name;
  std::string description;
  std::set<std::string> plans;
  double rollout_percent = 0;
  std::vector<Variant> variants;  // empty: an on/off flag
};

struct FlagValue {
  bool enabled = false;
  std::string variant;  // the assigned variant; empty for on/off flags
  const char* reason = "off";  // "override", "plan", "rollout", "variant" or "off"
};

// 0..9999: where `subject` falls for `flag`; the same inputs, the same bucket.
std::uint32_t bucket_of(std::string_view flag, std::string_view subject);

class Plans {
 public:
  // Every problem at once: Errc::invalid whose message lists "pointer: detail"
  // lines, with the first problem's pointer.
  static Result<Plans> parse(std::string_view json_text, const SchemaRegistry& schemas);
  // schemas/billing/plans.json, as built into the binary.
  static Result<Plans> builtin(const SchemaRegistry& schemas);

  const PlanSpec* find(std::string_view name) const;
  const PlanSpec& default_plan() const { return plans_.at(default_plan_); }
  const std::map<std::string, PlanSpec>& all() const { return plans_; }
  std::int64_t trial_days() const { return trial_days_; }
  std::int64_t grace_days() const { return grace_days_; }
  std::int64_t period_days() const { return period_days_; }

  // The lowest-tier plan above `from` that allows more of `m` (for an
  // upgrade hint); nullptr when none does.
  const PlanSpec* upgrade_for(const PlanSpec& from, Metric m) const;
  // The lowest-tier plan above `from` that has `feature`; nullptr when none.
  const PlanSpec* upgrade_for_feature(const PlanSpec& from, const std::string& feature) const;

  const std::map<std::string, FlagSpec>& flags() const { return flags_; }
  const FlagSpec* flag(std::string_view name) const;
  // `override_value`: "on", "off" or a variant name (checked when it was set).
  static FlagValue evaluate(const FlagSpec& f, const std::string& plan,
                            const std::optional<std::string>& override_value, std::string_view subject);

 private:
  std::string default_plan_;
  std::int64_t trial_days_ = 14, grace_days_ = 7, period_days_ = 30;
  std::map<std::string, PlanSpec> plans_;
  std::map<std::string, FlagSpec> flags_;
};

}  // namespace causeway::billing
