// The subscription commands (engine/aggregates/subscription.h). The target
// (CommandContext::target) is the organization id, except for
// subscription.record_payment, whose organization is the webhook's
// "organization_id".
#include <fmt/format.h>

#include "engine/billing/entitlements.h"
#include "engine/commands/traits.h"
#include "engine/pipeline.h"
#include "events/codec.h"

namespace causeway {
namespace json = boost::json;

namespace {

using Decide = std::function<Result<Decision>(const subscription::State&, const std::string& org_id,
                                              const billing::PlanSpec& current, const json::object& body,
                                              std::int64_t now)>;

using Changed = std::function<void(const std::string& org_id)>;

Result<Plan> plan_for(CommandPipeline& pipe, const billing::Plans& plans, const Changed& changed,
                      const std::string& org_id, const json::object& body, std::int64_t now, const Decide& decide) {
  if (auto st = require_existing<OrganizationAggregate>(pipe, org_id, "no such organization"); !st)
    return std::move(st).error();
  auto plan = plan_on<SubscriptionAggregate>(
      pipe, subscription::stream_of(org_id), now,
      [&](const subscription::State& s) -> Result<Decision> {
        const billing::PlanSpec* current = plans.find(subscription::plan_in_force(s, plans.default_plan().name));
        return decide(s, org_id, current ? *current : plans.default_plan(), body, now);
      },
      [&](Plan& p, const subscription::State& after) {
        p.reply = billing::subscription_json(after, subscription::plan_in_force(after, plans.default_plan().name),
                                             org_id);
      });
  if (plan) {
    plan->tenant = org_id;
    if (changed) plan->on_committed = [changed, org_id](std::uint64_t) { changed(org_id); };
  }
  return plan;
}

CommandHandler handler(const billing::Plans& plans, const Changed& changed, Decide decide) {
  CommandHandler h;
  h.plan = [&plans, changed, decide = std::move(decide)](const json::object& body, const CommandContext& ctx,
                                                         std::int64_t now, CommandPipeline& pipe) -> Result<Plan> {
    return plan_for(pipe, plans, changed, ctx.target, body, now, decide);
  };
  return h;
}

Result<const billing::PlanSpec*> named_plan(const billing::Plans& plans, const json::object& body) {
  const std::string name = json_string(body, "plan");
  const auto* p = plans.find(name);
  if (!p) return Error::invalid(fmt::format("no plan is named {}", name), "/plan");
  return p;
}

}  // namespace

void register_subscription_commands(CommandPipeline& p, const billing::Plans& plans, Changed changed) {
  p.add_command("subscription.start_trial",
                handler(plans, changed, [&plans](const subscription::State& s, const std::string& org,
                                        const billing::PlanSpec& current, const json::object& body,
                                        std::int64_t now) -> Result<Decision> {
                  auto target = named_plan(plans, body);
                  if (!target) return std::move(target).error();
                  return subscription::decide_start_trial(s, org, billing::plan_ref(**target),
                                                          billing::plan_ref(current), plans.trial_days(), now);
                }));
  p.add_command("subscription.change_plan",
                handler(plans, changed, [&plans, &p](const subscription::State& s, const std::string& org,
                                        const billing::PlanSpec& current, const json::object& body,
                                        std::int64_t now) -> Result<Decision> {
                  auto target = named_plan(plans, body);
                  if (!target) return std::move(target).error();
                  auto seats = billing::seats_used(p.aggregates(), org, now);
                  if (!seats) return std::move(seats).error();
                  return subscription::decide_change_plan(s, org, billing::plan_ref(**target),
                                                          billing::plan_ref(current), *seats, now);
                }));
  p.add_command("subscription.cancel",
                handler(plans, changed, [&plans](const subscription::State& s, const std::string& org,
                                        const billing::PlanSpec& current, const json::object&, std::int64_t now) {
                  return subscription::decide_cancel(s, org, current.name, plans.default_plan().name, now);
                }));
  p.add_command("subscription.reactivate",
                handler(plans, changed, [](const subscription::State& s, const std::string& org,
                                  const billing::PlanSpec& current, const json::object&, std::int64_t now) {
                  return subscription::decide_reactivate(s, org, current.name, now);
                }));
  p.add_command("subscription.tick",
                handler(plans, changed, [](const subscription::State& s, const std::string& org,
                                  const billing::PlanSpec& current, const json::object&, std::int64_t now) {
                  return subscription::decide_tick(s, org, current.name, now);
                }));
  p.add_command("subscription.override_flag",
                handler(plans, changed, [&plans](const subscription::State& s, const std::string& org,
                                        const billing::PlanSpec&, const json::object& body,
                                        std::int64_t) -> Result<Decision> {
                  const std::string name = json_string(body, "flag");
                  const auto* flag = plans.flag(name);
                  if (!flag) return Error::invalid(fmt::format("no feature flag is named {}", name), "/flag");
                  std::optional<std::string> value;
                  if (const auto* v = body.if_contains("value"); v && v->is_string()) value = std::string(v->as_string());
                  if (value && *value != "off") {
                    bool ok = flag->variants.empty() ? *value == "on" : false;
                    for (const auto& var : flag->variants) ok = ok || var.name == *value;
                    if (!ok)
                      return Error::invalid(flag->variants.empty()
                                                ? std::string("the value of an on/off flag is \"on\", \"off\" or null")
                                                : fmt::format("flag {} has no variant {}", name, *value),
                                            "/value");
                  }
                  return subscription::decide_override_flag(s, org, name, value);
                }));

  CommandHandler payment;
  payment.plan = [&plans, changed](const json::object& body, const CommandContext&, std::int64_t now,
                          CommandPipeline& pipe) -> Result<Plan> {
    const std::string org = json_string(body, "organization_id");
    const std::string id = json_string(body, "id");
    // A provider retries its webhooks: a recorded event id is answered, not recorded again.
    auto owner = pipe.log().reservation_owner("billing_event:" + id);
    if (!owner) return std::move(owner).error();
    if (owner->has_value() && **owner != subscription::stream_of(org))
      return Error::conflict("this provider event id was recorded for another organization", "/id");
    subscription::Payment pay;
    pay.provider_event_id = id;
    pay.succeeded = json_string(body, "type") == "payment.succeeded";
    pay.plan = json_string(body, "plan");
    pay.amount_cents = int_field(body, "amount_cents");
    pay.currency = json_string(body, "currency");
    if (auto pe = json_string(body, "period_end"); !pe.empty()) {
      auto t = parse_rfc3339_us(pe);
      if (!t) return Error::invalid("period_end is not an RFC 3339 time", "/period_end");
      pay.period_end_us = *t;
    }
    const bool duplicate = owner->has_value();
    // A first payment is a conversion, attributed to the owner's referrer.
    std::string referred_by, owner_user_id;
    if (auto org_state = pipe.aggregates().load<OrganizationAggregate>(org); org_state && org_state->state.exists) {
      owner_user_id = org_state->state.owner_user_id;
      if (auto owner_state = pipe.aggregates().load<UserAggregate>(owner_user_id); owner_state)
        referred_by = owner_state->state.referred_by;
    }
    auto plan = plan_for(pipe, plans, changed, org, body, now,
                         [&](const subscription::State& s, const std::string& org_id,
                             const billing::PlanSpec& current, const json::object&,
                             std::int64_t at) -> Result<Decision> {
                           if (duplicate) return Decision{};
                           return subscription::decide_payment(
                               s, org_id, pay, current.name, plans.default_plan().name,
                               pay.plan.empty() || plans.find(pay.plan) != nullptr, plans.grace_days(),
                               plans.period_days(), referred_by, at, owner_user_id);
                         });
    if (plan) {
      plan->reply["provider_event_id"] = id;
      plan->reply["duplicate"] = duplicate;
      if (!duplicate) plan->status = 201;
    }
    return plan;
  };
  p.add_command("subscription.record_payment", std::move(payment));
}

}  // namespace causeway
