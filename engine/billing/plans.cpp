#include "engine/billing/plans.h"

#include <boost/json/parse.hpp>
#include <fmt/format.h>
#include <sodium.h>

#include "events/json_fields.h"

namespace causeway::billing {
namespace json = boost::json;

const char* metric_name(Metric m) {
  switch (m) {
    case Metric::seats: return "seats";
    case Metric::workflow_runs: return "workflow_runs";
    case Metric::events: return "events";
    case Metric::api_calls: return "api_calls";
  }
  return "?";
}

const char* limit_name(Metric m) {
  switch (m) {
    case Metric::seats: return "seats";
    case Metric::workflow_runs: return "workflow_runs_per_month";
    case Metric::events: return "events_per_month";
    case Metric::api_calls: return "api_calls_per_month";
  }
  return "?";
}

std::int64_t Limits::of(Metric m) const {
  switch (m) {
    case Metric::seats: return seats;
    case Metric::workflow_runs: return workflow_runs;
    case Metric::events: return events;
    case Metric::api_calls: return api_calls;
  }
  return -1;
}

std::uint32_t bucket_of(std::string_view flag, std::string_view subject) {
  std::string in;
  in.reserve(flag.size() + subject.size() + 1);
  in.append(flag).push_back('\x1f');
  in.append(subject);
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(in.data()), in.size());
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | h[i];
  return static_cast<std::uint32_t>(v % 10000);
}

namespace {

std::set<std::string> string_set(const json::value* v) {
  std::set<std::string> out;
  if (v && v->is_array())
    for (const auto& s : v->as_array())
      if (s.is_string()) out.emplace(s.as_string());
  return out;
}

}  // namespace

Result<Plans> Plans::parse(std::string_view text, const SchemaRegistry& schemas) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) return Error::invalid(fmt::format("the plans configuration is not JSON: {}", ec.message()), "");
  if (auto errs = schemas.validate_document("billing/plans.schema.json", doc); !errs.empty()) {
    std::string msg = "the plans configuration is invalid:";
    for (const auto& e : errs) msg += fmt::format("\n  {}: {}", e.pointer.empty() ? "/" : e.pointer, e.detail);
    return Error::invalid(std::move(msg), errs.front().pointer);
  }
  const auto& o = doc.as_object();
  Plans p;
  p.default_plan_ = string_field(o, "default_plan");
  p.trial_days_ = int_field(o, "trial_days");
  p.grace_days_ = int_field(o, "grace_days");
  p.period_days_ = int_field(o, "period_days");
  for (const auto& [name, v] : o.at("plans").as_object()) {
    const auto& po = v.as_object();
    PlanSpec spec;
    spec.name = std::string(name);
    spec.tier = int_field(po, "tier");
    spec.trial = bool_field(po, "trial");
    const auto& l = po.at("limits").as_object();
    spec.limits = Limits{int_field(l, "seats"), int_field(l, "workflow_runs_per_month"), int_field(l, "events_per_month"),
                         int_field(l, "api_calls_per_month")};
    spec.features = string_set(po.if_contains("features"));
    p.plans_.emplace(spec.name, std::move(spec));
  }
  if (!p.plans_.contains(p.default_plan_))
    return Error::invalid(fmt::format("default_plan {} is not one of the plans", p.default_plan_), "/default_plan");
  if (p.default_plan().trial) return Error::invalid("the default plan cannot be a trial plan", "/default_plan");
  if (const auto* flags = o.if_contains("flags")) {
    for (const auto& [name, v] : flags->as_object()) {
      const auto& fo = v.as_object();
      FlagSpec f;
      f.name = std::string(name);
      f.description = string_field(fo, "description");
      f.plans = string_set(fo.if_contains("plans"));
      for (const auto& plan : f.plans)
        if (!p.plans_.contains(plan))
          return Error::invalid(fmt::format("flag {} names plan {}, which is not defined", f.name, plan),
                                "/flags/" + escape_pointer_token(f.name) + "/plans");
      if (const auto* r = fo.if_contains("rollout_percent")) f.rollout_percent = r->to_number<double>();
      if (const auto* vs = fo.if_contains("variants")) {
        std::int64_t total = 0;
        for (const auto& vv : vs->as_array()) {
          Variant var{string_field(vv.as_object(), "name"), int_field(vv.as_object(), "weight")};
          total += var.weight;
          f.variants.push_back(std::move(var));
        }
        if (total == 0)
          return Error::invalid(fmt::format("flag {}: the variants' weights add up to 0", f.name),
                                "/flags/" + escape_pointer_token(f.name) + "/variants");
      }
      p.flags_.emplace(f.name, std::move(f));
    }
  }
  return p;
}

Result<Plans> Plans::builtin(const SchemaRegistry& schemas) {
  for (const auto& e : embedded_schemas())
    if (std::string_view(e.path) == "billing/plans.json") return parse(e.text, schemas);
  return Error::corruption("the built-in plans are missing from the binary");
}

const PlanSpec* Plans::find(std::string_view name) const {
  auto it = plans_.find(std::string(name));
  return it == plans_.end() ? nullptr : &it->second;
}

const FlagSpec* Plans::flag(std::string_view name) const {
  auto it = flags_.find(std::string(name));
  return it == flags_.end() ? nullptr : &it->second;
}

namespace {
bool more_of(std::int64_t candidate, std::int64_t current) {
  if (current < 0) return false;
  return candidate < 0 || candidate > current;
}
}  // namespace

const PlanSpec* Plans::upgrade_for(const PlanSpec& from, Metric m) const {
  const PlanSpec* best = nullptr;
  for (const auto& [_, p] : plans_)
    if (p.tier > from.tier && more_of(p.limits.of(m), from.limits.of(m)) && (!best || p.tier < best->tier)) best = &p;
  return best;
}

const PlanSpec* Plans::upgrade_for_feature(const PlanSpec& from, const std::string& feature) const {
  const PlanSpec* best = nullptr;
  for (const auto& [_, p] : plans_)
    if (p.tier > from.tier && p.features.contains(feature) && (!best || p.tier < best->tier)) best = &p;
  return best;
}

FlagValue Plans::evaluate(const FlagSpec& f, const std::string& plan, const std::optional<std::string>& override_value,
                          std::string_view subject) {
  FlagValue v;
  if (override_value) {
    v.reason = "override";
    if (f.variants.empty()) {
      v.enabled = *override_value == "on";
    } else {
      v.enabled = *override_value != "off";
      if (v.enabled) v.variant = *override_value;
    }
    return v;
  }
  const std::uint32_t bucket = bucket_of(f.name, subject);
  if (!f.variants.empty()) {
    std::int64_t total = 0;
    for (const auto& var : f.variants) total += var.weight;
    const std::int64_t point = static_cast<std::int64_t>(bucket) * total / 10000;
    std::int64_t acc = 0;
    for (const auto& var : f.variants) {
      acc += var.weight;
      if (point < acc) {
        v.variant = var.name;
        break;
      }
    }
    v.enabled = true;
    v.reason = "variant";
    return v;
  }
  if (f.plans.contains(plan)) {
    v.enabled = true;
    v.reason = "plan";
    return v;
  }
  if (static_cast<double>(bucket) < f.rollout_percent * 100.0) {
    v.enabled = true;
    v.reason = "rollout";
  }
  return v;
}

}  // namespace causeway::billing
