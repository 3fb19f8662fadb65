// The subscription aggregate (stream "subscription-<org id>"): an
// organization's plan, trial, billing period, payment standing and feature
// flag overrides. Tenant: the organization. No personal data. Pure functions;
// the plans themselves are configuration (engine/billing/plans.h).
//
// With no events an organization is on the default plan, status "active".
// Statuses: active, trialing, past_due (a payment failed; grace until
// grace_ends_at_us), suspended (grace ran out: commands are refused until a
// payment succeeds).
//
// Events (docs/billing.md):
//   subscription.trial_started     {org_id, plan, ends_at_us}
//   subscription.trial_expired     {org_id, plan}                 -> the default plan
//   subscription.plan_changed      {org_id, from, to, direction}  direction: upgrade | downgrade
//   subscription.cancel_scheduled  {org_id, plan, at_us}
//   subscription.reactivated       {org_id, plan}
//   subscription.canceled          {org_id, plan, reason}         -> the default plan
//   subscription.payment_succeeded {org_id, provider_event_id, plan, amount_cents, currency, period_end_us}
//   subscription.payment_failed    {org_id, provider_event_id, amount_cents, currency, grace_ends_at_us}
//   subscription.converted         {org_id, plan, from_trial, owner_user_id?, referred_by?}   the first payment
//   subscription.suspended         {org_id, plan}
//   subscription.restored          {org_id, plan}
//   subscription.flag_overridden   {org_id, flag, value}          value: "on", "off", a variant, or null (cleared)
// Timer-driven transitions (trial end, grace end, the end of a cancelled
// period) are decided by decide_tick() at or after their time; deciding again
// writes nothing. A provider event id is reserved ("billing_event:<id>"), so
// a payment is recorded once however often its webhook arrives.
#pragma once

#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "engine/decision.h"
#include "events/result.h"

namespace causeway::subscription {

struct State {
  bool exists = false;
  std::string plan;               // "" = the default plan
  std::string status = "active";  // active | trialing | past_due | suspended
  bool trial_used = false;
  std::int64_t trial_ends_at_us = 0;
  std::int64_t period_end_us = 0;  // end of the paid period; 0: none
  bool cancel_at_period_end = false;
  std::int64_t grace_ends_at_us = 0;
  bool converted = false;  // a payment ever succeeded
  std::map<std::string, std::string> overrides;  // flag -> "on" | "off" | variant
  template <class Ar>
  void serialize(Ar& ar) {
    ar(exists, plan, status, trial_used, trial_ends_at_us, period_end_us, cancel_at_period_end, grace_ends_at_us,
       converted, overrides);
  }
};
inline constexpr std::uint32_t kStateFormat = 1;

std::string stream_of(const std::string& org_id);
// The plan in force: s.plan, or `default_plan` when none was chosen.
std::string plan_in_force(const State& s, const std::string& default_plan);
// The earliest time decide_tick() has something to decide; 0: none.
std::int64_t next_deadline(const State& s);

// What the deciders need to know of a plan (engine/billing/plans.h).
struct PlanRef {
  std::string name;
  std::int64_t tier = 0;
  bool trial = false;
  std::int64_t seats = -1;  // -1: unlimited
};

// `current` is the plan in force; `seats_used` the organization's members.
Result<Decision> decide_start_trial(const State& s, const std::string& org_id, const PlanRef& target,
                                    const PlanRef& current, std::int64_t trial_days, std::int64_t now_us);
Result<Decision> decide_change_plan(const State& s, const std::string& org_id, const PlanRef& target,
                                    const PlanRef& current, std::int64_t seats_used, std::int64_t now_us);
Result<Decision> decide_cancel(const State& s, const std::string& org_id, const std::string& current_plan,
                               const std::string& default_plan, std::int64_t now_us);
Result<Decision> decide_reactivate(const State& s, const std::string& org_id, const std::string& current_plan,
                                   std::int64_t now_us);
Result<Decision> decide_tick(const State& s, const std::string& org_id, const std::string& current_plan,
                             std::int64_t now_us);

struct Payment {
  std::string provider_event_id;
  bool succeeded = false;
  std::string plan;  // succeeded: the plan paid for ("" = the plan in force)
  std::int64_t amount_cents = 0;
  std::string currency;
  std::int64_t period_end_us = 0;  // succeeded: end of the paid period
};
// `plan_known`: whether payment.plan names a configured plan; `grace_days`,
// `period_days` from the plans; `referred_by`: the owner's referrer, if any;
// `owner_user_id`: the organization's owner, whom a conversion credits.
Result<Decision> decide_payment(const State& s, const std::string& org_id, const Payment& p,
                                const std::string& current_plan, const std::string& default_plan, bool plan_known,
                                std::int64_t grace_days, std::int64_t period_days, const std::string& referred_by,
                                std::int64_t now_us, const std::string& owner_user_id = {});
// `value`: "on", "off", a variant name (checked by the caller), or nullopt to clear.
Result<Decision> decide_override_flag(const State& s, const std::string& org_id, const std::string& flag,
                                      const std::optional<std::string>& value);

void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

}  // namespace causeway::subscription
