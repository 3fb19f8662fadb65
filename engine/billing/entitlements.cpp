#include "engine/billing/entitlements.h"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <ctime>

#include "engine/commands/traits.h"
#include "events/codec.h"

namespace causeway::billing {
namespace json = boost::json;

std::string counter_key(const std::string& org_id, Metric m, std::int64_t now_us) {
  const std::time_t secs = static_cast<std::time_t>(now_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("usage:{}:{}:{:04}-{:02}", org_id, metric_name(m), tm.tm_year + 1900, tm.tm_mon + 1);
}

Result<std::int64_t> seats_used(AggregateStore& aggregates, const std::string& org_id, std::int64_t now_us) {
  auto org = aggregates.load<OrganizationAggregate>(org_id);
  if (!org) return std::move(org).error();
  return organization::seats_taken(org->state, now_us);
}

subscription::PlanRef plan_ref(const PlanSpec& p) { return {p.name, p.tier, p.trial, p.limits.seats}; }

namespace {

// Whether a published definition has a cron trigger (docs/workflows.md).
bool has_schedule(const json::object& published) {
  const auto* def = published.if_contains("definition");
  const auto* nodes = def && def->is_object() ? def->as_object().if_contains("nodes") : nullptr;
  if (!nodes || !nodes->is_array()) return false;
  for (const auto& n : nodes->as_array()) {
    const auto* o = n.if_object();
    const auto* t = o ? o->if_contains("trigger") : nullptr;
    if (t && t->is_object() && string_field(t->as_object(), "kind") == "schedule") return true;
  }
  return false;
}

std::string upgrade_text(const PlanSpec* up, const std::string& what) {
  return up ? fmt::format("upgrade to {} for {}", up->name, what) : std::string("contact sales for a custom plan");
}

}  // namespace

CounterAdd Entitlements::counted(const std::string& org_id, const PlanSpec& plan, Metric m, std::int64_t delta,
                                 std::int64_t now_us) const {
  CounterAdd add;
  add.key = counter_key(org_id, m, now_us);
  add.delta = delta;
  add.limit = plan.limits.of(m);
  add.metric = metric_name(m);
  if (add.limit >= 0) {
    const PlanSpec* up = plans_.upgrade_for(plan, m);
    json::object hint{{"plan", plan.name}};
    if (up) {
      const std::int64_t more = up->limits.of(m);
      hint["upgrade_to"] = up->name;
      hint["upgrade_hint"] = upgrade_text(
          up, more < 0 ? fmt::format("unlimited {}", metric_name(m)) : fmt::format("{} {} a month", more, metric_name(m)));
    } else {
      hint["upgrade_hint"] = upgrade_text(nullptr, "");
    }
    add.hint = json::serialize(hint);
  }
  return add;
}

Result<Entitlements::Standing> Entitlements::standing(const std::string& org_id) {
  auto loaded = pipe_.aggregates().load<SubscriptionAggregate>(subscription::stream_of(org_id));
  if (!loaded) return std::move(loaded).error();
  Standing s;
  s.state = loaded->state;
  s.version = loaded->version;
  s.plan = plans_.find(subscription::plan_in_force(s.state, plans_.default_plan().name));
  // A plan removed from the configuration falls back to the default.
  if (!s.plan) s.plan = &plans_.default_plan();
  return s;
}

Status Entitlements::meter(const CommandContext& ctx, const std::string& command, Plan& plan, std::int64_t now_us) {
  const std::string& org = plan.tenant;
  if (org.empty() || command.starts_with("subscription.")) return ok_status();
  auto st = standing(org);
  if (!st) return std::move(st).error();
  // A suspended organization's people can still leave it and turn invitations down.
  const bool way_out = command == "organization.decline_invitation" || command == "organization.revoke_invitation" ||
                       (command == "organization.remove_member" && !plan.decision.events.empty() &&
                        string_field(plan.decision.events.front().data, "reason") == "left");
  if (st->state.status == "suspended" && !way_out)
    return Error::limit_exceeded(
        "the organization is suspended for non-payment; a successful payment restores it",
        json::serialize(json::object{{"plan", st->plan->name}, {"subscription_status", "suspended"}}));
  std::int64_t runs = 0, events = 0, invites = 0;
  for (const auto& e : plan.decision.events) {
    if (e.type == "organization.member_invited") {
      ++invites;
    } else if (e.type == "run.started") {
      ++runs;
    } else if (e.type == "event.ingested") {
      ++events;
    } else if (e.type == "workflow.published" && !st->plan->features.contains("workflow_schedules") &&
               has_schedule(e.data)) {
      const PlanSpec* up = plans_.upgrade_for_feature(*st->plan, "workflow_schedules");
      json::object ext{{"plan", st->plan->name}, {"feature", "workflow_schedules"},
                       {"upgrade_hint", upgrade_text(up, "scheduled workflows")}};
      if (up) ext["upgrade_to"] = up->name;
      return Error{Errc::forbidden, fmt::format("plan {} has no scheduled workflows", st->plan->name), "",
                   json::serialize(ext)};
    }
  }
  if (invites) {
    if (auto st_seats = seats(org, *st->plan, invites, now_us); !st_seats) return st_seats;
  }
  if (ctx.api_call) plan.counters.push_back(counted(org, *st->plan, Metric::api_calls, 1, now_us));
  if (runs) plan.counters.push_back(counted(org, *st->plan, Metric::workflow_runs, runs, now_us));
  if (events) plan.counters.push_back(counted(org, *st->plan, Metric::events, events, now_us));
  return ok_status();
}

Status Entitlements::seats(const std::string& org_id, const PlanSpec& plan, std::int64_t more, std::int64_t now_us) {
  const std::int64_t limit = plan.limits.seats;
  if (limit < 0) return ok_status();
  auto used = seats_used(pipe_.aggregates(), org_id, now_us);
  if (!used) return std::move(used).error();
  if (*used + more <= limit) return ok_status();
  const PlanSpec* up = plans_.upgrade_for(plan, Metric::seats);
  json::object ext{{"plan", plan.name}, {"metric", "seats"}, {"limit", limit}, {"usage", *used}};
  if (up) {
    ext["upgrade_to"] = up->name;
    ext["upgrade_hint"] = upgrade_text(up, up->limits.seats < 0 ? std::string("unlimited seats")
                                                                 : fmt::format("{} seats", up->limits.seats));
  } else {
    ext["upgrade_hint"] = upgrade_text(nullptr, "");
  }
  return Error::limit_exceeded(
      fmt::format("plan {} allows {} seats and {} are taken by members and pending invitations", plan.name, limit,
                  *used),
      json::serialize(ext));
}

Result<std::map<Metric, std::int64_t>> Entitlements::usage(const std::string& org_id, std::int64_t now_us) {
  std::map<Metric, std::int64_t> out;
  for (Metric m : kMetrics) {
    if (m == Metric::seats) {
      auto seats = seats_used(pipe_.aggregates(), org_id, now_us);
      if (!seats) return std::move(seats).error();
      out[m] = *seats;
      continue;
    }
    auto v = pipe_.log().counter(counter_key(org_id, m, now_us));
    if (!v) return std::move(v).error();
    out[m] = *v;
  }
  return out;
}

Result<json::object> Entitlements::describe(const std::string& org_id, std::int64_t now_us) {
  auto st = standing(org_id);
  if (!st) return std::move(st).error();
  auto used = usage(org_id, now_us);
  if (!used) return std::move(used).error();
  json::object out = subscription_json(st->state, st->plan->name, org_id);
  json::object usage;
  for (Metric m : kMetrics) usage[metric_name(m)] = (*used)[m];
  json::array features;
  for (const auto& f : st->plan->features) features.emplace_back(f);
  json::object overrides;
  for (const auto& [flag, v] : st->state.overrides) overrides[flag] = v;
  out["tier"] = st->plan->tier;
  out["trial_used"] = st->state.trial_used;
  out["limits"] = limits_json(st->plan->limits);
  out["usage"] = std::move(usage);
  out["features"] = std::move(features);
  out["flag_overrides"] = std::move(overrides);
  out["version"] = st->version;
  return out;
}

json::object subscription_json(const subscription::State& s, const std::string& plan, const std::string& org_id) {
  auto time_or_null = [](std::int64_t us) -> json::value { return us > 0 ? json::value(rfc3339_us(us)) : nullptr; };
  return json::object{{"org_id", org_id},
                      {"plan", plan},
                      {"status", s.status},
                      {"trial_ends_at", s.status == "trialing" ? time_or_null(s.trial_ends_at_us) : nullptr},
                      {"period_end", time_or_null(s.period_end_us)},
                      {"cancel_at_period_end", s.cancel_at_period_end},
                      {"grace_ends_at", s.status == "past_due" ? time_or_null(s.grace_ends_at_us) : nullptr}};
}

json::object limits_json(const Limits& l) {
  json::object out;
  for (Metric m : kMetrics) out[limit_name(m)] = l.of(m) < 0 ? json::value(nullptr) : json::value(l.of(m));
  return out;
}

}  // namespace causeway::billing
