#include "engine/aggregates/subscription.h"

#include <fmt/format.h>

#include <algorithm>

#include "events/json_fields.h"

namespace causeway::subscription {
namespace json = boost::json;

namespace {
constexpr std::int64_t kDayUs = 86'400LL * 1'000'000;

DraftEvent event(const char* type, const std::string& org_id, json::object data) {
  data["org_id"] = org_id;
  return DraftEvent{type, 1, std::move(data), {}};
}

Status not_suspended(const State& s) {
  if (s.status == "suspended")
    return Error::conflict("the organization is suspended for non-payment; a successful payment restores it");
  return ok_status();
}
}  // namespace

std::string stream_of(const std::string& org_id) { return "subscription-" + org_id; }

std::string plan_in_force(const State& s, const std::string& default_plan) {
  return s.plan.empty() ? default_plan : s.plan;
}

std::int64_t next_deadline(const State& s) {
  std::int64_t t = 0;
  auto take = [&](std::int64_t v) { if (v > 0 && (t == 0 || v < t)) t = v; };
  if (s.status == "trialing") take(s.trial_ends_at_us);
  if (s.status == "past_due") take(s.grace_ends_at_us);
  if (s.cancel_at_period_end) take(s.period_end_us);
  return t;
}

Result<Decision> decide_start_trial(const State& s, const std::string& org_id, const PlanRef& target,
                                    const PlanRef& current, std::int64_t trial_days, std::int64_t now_us) {
  if (!target.trial) return Error::invalid(fmt::format("plan {} has no trial", target.name), "/plan");
  if (auto st = not_suspended(s); !st) return std::move(st).error();
  if (s.trial_used) return Error::conflict("this organization has already had its trial");
  if (s.period_end_us > now_us)
    return Error::conflict(fmt::format("the organization is on the paid plan {}; a trial is for new plans", current.name));
  if (target.tier <= current.tier)
    return Error::invalid(fmt::format("a trial must be of a plan above {}", current.name), "/plan");
  return decision_of(event("subscription.trial_started", org_id,
                   {{"plan", target.name}, {"ends_at_us", now_us + trial_days * kDayUs}}));
}

Result<Decision> decide_change_plan(const State& s, const std::string& org_id, const PlanRef& target,
                                    const PlanRef& current, std::int64_t seats_used, std::int64_t) {
  if (auto st = not_suspended(s); !st) return std::move(st).error();
  if (target.name == current.name) return Decision{};
  if (s.status == "trialing")
    return Error::conflict("the organization is in a trial; a payment converts it, or cancel the trial first");
  if (target.seats >= 0 && seats_used > target.seats)
    return Error::invalid(fmt::format("plan {} allows {} seats and the organization has {} members; remove members "
                                      "first",
                                      target.name, target.seats, seats_used),
                          "/plan");
  return decision_of(event("subscription.plan_changed", org_id,
                   {{"from", current.name},
                    {"to", target.name},
                    {"direction", target.tier > current.tier ? "upgrade" : "downgrade"}}));
}

Result<Decision> decide_cancel(const State& s, const std::string& org_id, const std::string& current_plan,
                               const std::string& default_plan, std::int64_t now_us) {
  if (current_plan == default_plan) return Error::conflict(fmt::format("the organization is on {}: nothing to cancel", default_plan));
  if (s.cancel_at_period_end) return Decision{};  // already scheduled
  if (s.status == "trialing")
    return decision_of(event("subscription.canceled", org_id, {{"plan", current_plan}, {"reason", "trial_cancelled"}}));
  if (s.period_end_us > now_us)
    return decision_of(event("subscription.cancel_scheduled", org_id, {{"plan", current_plan}, {"at_us", s.period_end_us}}));
  return decision_of(event("subscription.canceled", org_id, {{"plan", current_plan}, {"reason", "cancelled"}}));
}

Result<Decision> decide_reactivate(const State& s, const std::string& org_id, const std::string& current_plan,
                                   std::int64_t now_us) {
  if (!s.cancel_at_period_end) return Error::conflict("no cancellation is scheduled");
  if (s.period_end_us <= now_us) return Error::conflict("the period has ended; choose a plan again");
  return decision_of(event("subscription.reactivated", org_id, {{"plan", current_plan}}));
}

Result<Decision> decide_tick(const State& s, const std::string& org_id, const std::string& current_plan,
                             std::int64_t now_us) {
  Decision d;
  if (s.status == "trialing" && s.trial_ends_at_us > 0 && s.trial_ends_at_us <= now_us)
    d.events.push_back(event("subscription.trial_expired", org_id, {{"plan", current_plan}}));
  if (s.status == "past_due" && s.grace_ends_at_us > 0 && s.grace_ends_at_us <= now_us)
    d.events.push_back(event("subscription.suspended", org_id, {{"plan", current_plan}}));
  if (s.cancel_at_period_end && s.period_end_us <= now_us)
    d.events.push_back(event("subscription.canceled", org_id, {{"plan", current_plan}, {"reason", "period_end"}}));
  return d;
}

Result<Decision> decide_payment(const State& s, const std::string& org_id, const Payment& p,
                                const std::string& current_plan, const std::string& default_plan, bool plan_known,
                                std::int64_t grace_days, std::int64_t period_days, const std::string& referred_by,
                                std::int64_t now_us, const std::string& owner_user_id) {
  Decision d;
  d.reservations.push_back(Reservation{"billing_event:" + p.provider_event_id, stream_of(org_id), "/id"});
  if (!p.succeeded) {
    // A failure in grace keeps the first deadline; a suspended one stays suspended.
    const std::int64_t grace =
        s.status == "past_due" ? s.grace_ends_at_us : now_us + grace_days * kDayUs;
    json::object data{{"provider_event_id", p.provider_event_id},
                      {"amount_cents", p.amount_cents},
                      {"currency", p.currency},
                      {"grace_ends_at_us", s.status == "suspended" ? std::int64_t{0} : grace}};
    d.events.push_back(event("subscription.payment_failed", org_id, std::move(data)));
    return d;
  }
  if (!p.plan.empty() && !plan_known) return Error::invalid(fmt::format("no plan is named {}", p.plan), "/plan");
  const std::string plan = p.plan.empty() ? current_plan : p.plan;
  if (plan == default_plan)
    return Error::invalid(fmt::format("{} is the free default plan; a payment is for a paid plan", plan), "/plan");
  const std::int64_t period_end = p.period_end_us > 0 ? p.period_end_us : now_us + period_days * kDayUs;
  if (period_end <= now_us) return Error::invalid("the paid period has already ended", "/period_end");
  d.events.push_back(event("subscription.payment_succeeded", org_id,
                           {{"provider_event_id", p.provider_event_id},
                            {"plan", plan},
                            {"amount_cents", p.amount_cents},
                            {"currency", p.currency},
                            {"period_end_us", period_end}}));
  if (!s.converted) {
    json::object conv{{"plan", plan}, {"from_trial", s.status == "trialing"}};
    if (!referred_by.empty()) conv["referred_by"] = referred_by;
    if (!owner_user_id.empty()) conv["owner_user_id"] = owner_user_id;
    d.events.push_back(event("subscription.converted", org_id, std::move(conv)));
  }
  if (s.status == "past_due" || s.status == "suspended")
    d.events.push_back(event("subscription.restored", org_id, {{"plan", plan}}));
  return d;
}

Result<Decision> decide_override_flag(const State& s, const std::string& org_id, const std::string& flag,
                                      const std::optional<std::string>& value) {
  auto it = s.overrides.find(flag);
  if (!value && it == s.overrides.end()) return Decision{};
  if (value && it != s.overrides.end() && it->second == *value) return Decision{};
  json::object data{{"flag", flag}};
  if (value) data["value"] = *value;
  else data["value"] = nullptr;
  return decision_of(event("subscription.flag_overridden", org_id, std::move(data)));
}

void apply(State& s, const std::string& type, const json::object& data, std::int64_t) {
  s.exists = true;
  if (type == "subscription.trial_started") {
    s.plan = string_field(data, "plan");
    s.status = "trialing";
    s.trial_used = true;
    s.trial_ends_at_us = int_field(data, "ends_at_us");
    s.cancel_at_period_end = false;
  } else if (type == "subscription.trial_expired" || type == "subscription.canceled") {
    s.plan.clear();
    s.status = "active";
    s.trial_ends_at_us = 0;
    s.period_end_us = 0;
    s.cancel_at_period_end = false;
    s.grace_ends_at_us = 0;
  } else if (type == "subscription.plan_changed") {
    s.plan = string_field(data, "to");
    s.cancel_at_period_end = false;
  } else if (type == "subscription.cancel_scheduled") {
    s.cancel_at_period_end = true;
  } else if (type == "subscription.reactivated") {
    s.cancel_at_period_end = false;
  } else if (type == "subscription.payment_succeeded") {
    s.plan = string_field(data, "plan");
    s.status = "active";
    s.trial_ends_at_us = 0;
    s.grace_ends_at_us = 0;
    s.period_end_us = int_field(data, "period_end_us");
  } else if (type == "subscription.payment_failed") {
    if (s.status != "suspended") {
      s.status = "past_due";
      s.grace_ends_at_us = int_field(data, "grace_ends_at_us");
    }
  } else if (type == "subscription.converted") {
    s.converted = true;
  } else if (type == "subscription.suspended") {
    s.status = "suspended";
    s.grace_ends_at_us = 0;
  } else if (type == "subscription.restored") {
    s.status = "active";
  } else if (type == "subscription.flag_overridden") {
    const auto* v = data.if_contains("value");
    if (v && v->is_string()) s.overrides[std::string(data.at("flag").as_string())] = std::string(v->as_string());
    else s.overrides.erase(string_field(data, "flag"));
  }
}

}  // namespace causeway::subscription
