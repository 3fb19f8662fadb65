// Plans, feature flags and the subscription aggregate, as pure functions:
// configuration errors with pointers, deterministic flag assignment, and each
// subscription transition with its rejections.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>

#include "engine/aggregates/subscription.h"
#include "engine/billing/entitlements.h"
#include "engine/billing/plans.h"
#include "support/schemas.h"

using namespace causeway;
using namespace causeway::billing;
using namespace causeway::testing;
namespace json = boost::json;

namespace {
constexpr std::int64_t kDay = 86'400LL * 1'000'000;
constexpr std::int64_t kNow = 1'790'000'000'000'000;  // 2026-09-21

const Plans& builtin() {
  static auto p = Plans::builtin(embedded_registry());
  REQUIRE(p.ok());
  return *p;
}

subscription::State fold(subscription::State s, const Result<Decision>& d, std::int64_t at = kNow) {
  REQUIRE(d.ok());
  for (const auto& e : d->events) subscription::apply(s, e.type, e.data, at);
  return s;
}

std::vector<std::string> types(const Result<Decision>& d) {
  std::vector<std::string> out;
  if (d.ok())
    for (const auto& e : d->events) out.push_back(e.type);
  return out;
}

subscription::PlanRef ref(const char* name) { return plan_ref(*builtin().find(name)); }
}  // namespace

TEST_CASE("the built-in plans load: free by default, pro and enterprise with trials, -1 as unlimited") {
  const auto& p = builtin();
  CHECK(p.default_plan().name == "free");
  CHECK(p.find("pro")->trial);
  CHECK(p.find("enterprise")->limits.workflow_runs == -1);
  CHECK(p.upgrade_for(*p.find("free"), Metric::workflow_runs)->name == "pro");
  CHECK(p.upgrade_for(*p.find("pro"), Metric::seats)->name == "enterprise");
  CHECK(p.upgrade_for(*p.find("enterprise"), Metric::seats) == nullptr);
  CHECK(p.upgrade_for_feature(*p.find("free"), "workflow_schedules")->name == "pro");
  CHECK(p.upgrade_for_feature(*p.find("free"), "sso")->name == "enterprise");
}

TEST_CASE("a plans file with problems is refused with every problem and the first pointer") {
  auto bad = Plans::parse(R"({"default_plan": "free", "trial_days": 0, "grace_days": 7, "period_days": 30,
    "plans": {"free": {"tier": 0, "limits": {"seats": "three", "workflow_runs_per_month": 1,
              "events_per_month": 1, "api_calls_per_month": 1}, "features": []}}, "extra": 1})",
                          embedded_registry());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("/trial_days") != std::string::npos);
  CHECK(bad.error().message.find("/plans/free/limits/seats") != std::string::npos);
  CHECK(bad.error().message.find("extra") != std::string::npos);

  auto no_default = Plans::parse(R"({"default_plan": "basic", "trial_days": 14, "grace_days": 7, "period_days": 30,
    "plans": {"free": {"tier": 0, "limits": {"seats": 1, "workflow_runs_per_month": 1,
              "events_per_month": 1, "api_calls_per_month": 1}, "features": []}}})",
                                 embedded_registry());
  REQUIRE_FALSE(no_default.ok());
  CHECK(no_default.error().pointer == "/default_plan");

  auto flag_plan = Plans::parse(R"({"default_plan": "free", "trial_days": 14, "grace_days": 7, "period_days": 30,
    "plans": {"free": {"tier": 0, "limits": {"seats": 1, "workflow_runs_per_month": 1,
              "events_per_month": 1, "api_calls_per_month": 1}, "features": []}},
    "flags": {"beta": {"plans": ["gold"]}}})",
                                embedded_registry());
  REQUIRE_FALSE(flag_plan.ok());
  CHECK(flag_plan.error().pointer == "/flags/beta/plans");
  CHECK_FALSE(Plans::parse("not json", embedded_registry()).ok());
}

TEST_CASE("flag assignment is deterministic per subject and a rollout reaches about its share") {
  CHECK(bucket_of("visual_builder_v2", "user-1") == bucket_of("visual_builder_v2", "user-1"));
  CHECK(bucket_of("a", "user-1") < 10000);
  const FlagSpec& f = *builtin().flag("visual_builder_v2");  // 20% rollout, on for enterprise
  int on = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string subject = "user-" + std::to_string(i);
    auto v = Plans::evaluate(f, "free", std::nullopt, subject);
    auto again = Plans::evaluate(f, "free", std::nullopt, subject);
    CHECK(v.enabled == again.enabled);
    if (v.enabled) ++on;
  }
  CHECK(on > 1800);
  CHECK(on < 2200);
  CHECK(std::string(Plans::evaluate(f, "enterprise", std::nullopt, "anyone").reason) == "plan");
  auto forced = Plans::evaluate(f, "enterprise", std::string("off"), "anyone");
  CHECK_FALSE(forced.enabled);
  CHECK(std::string(forced.reason) == "override");
}

TEST_CASE("variants split subjects by weight, each subject always getting the same variant") {
  const FlagSpec& f = *builtin().flag("onboarding_checklist");  // 50/50
  std::map<std::string, int> seen;
  for (int i = 0; i < 4000; ++i) {
    const std::string subject = "user-" + std::to_string(i);
    auto v = Plans::evaluate(f, "free", std::nullopt, subject);
    CHECK(v.variant == Plans::evaluate(f, "pro", std::nullopt, subject).variant);
    seen[v.variant]++;
  }
  REQUIRE(seen.size() == 2);
  CHECK(seen["control"] > 1800);
  CHECK(seen["checklist"] > 1800);
  CHECK(Plans::evaluate(f, "free", std::string("checklist"), "user-1").variant == "checklist");
}

TEST_CASE("usage counters are keyed by organization, metric and UTC month") {
  CHECK(counter_key("org-1", Metric::workflow_runs, 1'790'000'000'000'000) == "usage:org-1:workflow_runs:2026-09");
  CHECK(counter_key("org-1", Metric::events, 1'798'761'599'000'000) == "usage:org-1:events:2026-12");  // 12-31 23:59:59
  CHECK(counter_key("org-1", Metric::events, 1'798'761'600'000'000) == "usage:org-1:events:2027-01");
}

TEST_CASE("a trial starts once, of a trial plan above the current one, and expires back to the default plan") {
  subscription::State s;
  CHECK(types(subscription::decide_start_trial(s, "org-1", ref("free"), ref("free"), 14, kNow)).empty());
  CHECK(subscription::decide_start_trial(s, "org-1", ref("free"), ref("free"), 14, kNow).error().pointer == "/plan");
  auto started = subscription::decide_start_trial(s, "org-1", ref("pro"), ref("free"), 14, kNow);
  CHECK(types(started) == std::vector<std::string>{"subscription.trial_started"});
  s = fold(s, started);
  CHECK(s.status == "trialing");
  CHECK(subscription::plan_in_force(s, "free") == "pro");
  CHECK(subscription::next_deadline(s) == kNow + 14 * kDay);
  CHECK(subscription::decide_start_trial(s, "org-1", ref("enterprise"), ref("pro"), 14, kNow).error().code ==
        Errc::conflict);
  CHECK(types(subscription::decide_tick(s, "org-1", "pro", kNow + 14 * kDay - 1)).empty());
  auto expired = subscription::decide_tick(s, "org-1", "pro", kNow + 14 * kDay);
  CHECK(types(expired) == std::vector<std::string>{"subscription.trial_expired"});
  s = fold(s, expired);
  CHECK(subscription::plan_in_force(s, "free") == "free");
  CHECK(subscription::next_deadline(s) == 0);
  CHECK(types(subscription::decide_tick(s, "org-1", "free", kNow + 20 * kDay)).empty());
  CHECK(subscription::decide_start_trial(s, "org-1", ref("pro"), ref("free"), 14, kNow).error().code ==
        Errc::conflict);
}

TEST_CASE("a payment converts a trial, and a failed one opens a grace period, then suspension, lifted by a payment") {
  subscription::State s = fold({}, subscription::decide_start_trial({}, "org-1", ref("pro"), ref("free"), 14, kNow));
  subscription::Payment paid{"evt_1", true, "", 4900, "usd", 0};
  auto conv = subscription::decide_payment(s, "org-1", paid, "pro", "free", true, 7, 30, "user-9", kNow);
  CHECK(types(conv) == std::vector<std::string>{"subscription.payment_succeeded", "subscription.converted"});
  REQUIRE(conv->reservations.size() == 1);
  CHECK(conv->reservations[0].key == "billing_event:evt_1");
  CHECK(conv->events[1].data.at("from_trial").as_bool());
  CHECK(conv->events[1].data.at("referred_by").as_string() == "user-9");
  s = fold(s, conv);
  CHECK(s.status == "active");
  CHECK(s.period_end_us == kNow + 30 * kDay);

  subscription::Payment failed{"evt_2", false, "", 4900, "usd", 0};
  s = fold(s, subscription::decide_payment(s, "org-1", failed, "pro", "free", true, 7, 30, "", kNow + 30 * kDay));
  CHECK(s.status == "past_due");
  CHECK(s.grace_ends_at_us == kNow + 37 * kDay);
  // A second failure in grace keeps the first deadline.
  subscription::Payment failed_again{"evt_3", false, "", 4900, "usd", 0};
  s = fold(s, subscription::decide_payment(s, "org-1", failed_again, "pro", "free", true, 7, 30, "", kNow + 33 * kDay));
  CHECK(s.grace_ends_at_us == kNow + 37 * kDay);
  auto suspended = subscription::decide_tick(s, "org-1", "pro", kNow + 37 * kDay);
  CHECK(types(suspended) == std::vector<std::string>{"subscription.suspended"});
  s = fold(s, suspended);
  CHECK(s.status == "suspended");
  CHECK(subscription::decide_change_plan(s, "org-1", ref("free"), ref("pro"), 1, kNow).error().code ==
        Errc::conflict);
  subscription::Payment restored{"evt_4", true, "pro", 4900, "usd", kNow + 70 * kDay};
  auto back = subscription::decide_payment(s, "org-1", restored, "pro", "free", true, 7, 30, "", kNow + 40 * kDay);
  CHECK(types(back) == std::vector<std::string>{"subscription.payment_succeeded", "subscription.restored"});
  s = fold(s, back);
  CHECK(s.status == "active");
  CHECK(s.period_end_us == kNow + 70 * kDay);
}

TEST_CASE("a payment is refused for an unknown plan, the free plan or a period already over") {
  subscription::State s;
  subscription::Payment p{"evt_1", true, "gold", 100, "usd", 0};
  CHECK(subscription::decide_payment(s, "org-1", p, "free", "free", false, 7, 30, "", kNow).error().pointer == "/plan");
  p.plan = "";
  CHECK(subscription::decide_payment(s, "org-1", p, "free", "free", true, 7, 30, "", kNow).error().pointer == "/plan");
  p.plan = "pro";
  p.period_end_us = kNow - 1;
  CHECK(subscription::decide_payment(s, "org-1", p, "free", "free", true, 7, 30, "", kNow).error().pointer ==
        "/period_end");
}

TEST_CASE("cancelling keeps the plan until the period ends, reactivating withdraws it, and a cancelled trial ends now") {
  subscription::State s;
  s = fold(s, subscription::decide_change_plan(s, "org-1", ref("pro"), ref("free"), 1, kNow));
  s = fold(s, subscription::decide_payment(s, "org-1", {"evt_1", true, "", 4900, "usd", kNow + 30 * kDay}, "pro",
                                           "free", true, 7, 30, "", kNow));
  auto cancel = subscription::decide_cancel(s, "org-1", "pro", "free", kNow + kDay);
  CHECK(types(cancel) == std::vector<std::string>{"subscription.cancel_scheduled"});
  s = fold(s, cancel);
  CHECK(types(subscription::decide_cancel(s, "org-1", "pro", "free", kNow + kDay)).empty());  // already
  s = fold(s, subscription::decide_reactivate(s, "org-1", "pro", kNow + 2 * kDay));
  CHECK_FALSE(s.cancel_at_period_end);
  CHECK(subscription::decide_reactivate(s, "org-1", "pro", kNow).error().code == Errc::conflict);
  s = fold(s, subscription::decide_cancel(s, "org-1", "pro", "free", kNow + 3 * kDay));
  CHECK(types(subscription::decide_tick(s, "org-1", "pro", kNow + 29 * kDay)).empty());
  auto ended = subscription::decide_tick(s, "org-1", "pro", kNow + 30 * kDay);
  CHECK(types(ended) == std::vector<std::string>{"subscription.canceled"});
  s = fold(s, ended);
  CHECK(subscription::plan_in_force(s, "free") == "free");
  CHECK(subscription::decide_cancel(s, "org-1", "free", "free", kNow).error().code == Errc::conflict);

  subscription::State t = fold({}, subscription::decide_start_trial({}, "org-1", ref("pro"), ref("free"), 14, kNow));
  auto ends = subscription::decide_cancel(t, "org-1", "pro", "free", kNow);
  CHECK(types(ends) == std::vector<std::string>{"subscription.canceled"});
  CHECK(ends->events[0].data.at("reason").as_string() == "trial_cancelled");
}

TEST_CASE("a plan change names its direction, refuses a plan with fewer seats than members, and repeats as no-op") {
  subscription::State s;
  auto up = subscription::decide_change_plan(s, "org-1", ref("enterprise"), ref("free"), 1, kNow);
  CHECK(up->events[0].data.at("direction").as_string() == "upgrade");
  s = fold(s, up);
  CHECK(types(subscription::decide_change_plan(s, "org-1", ref("enterprise"), ref("enterprise"), 1, kNow)).empty());
  auto too_small = subscription::decide_change_plan(s, "org-1", ref("free"), ref("enterprise"), 4, kNow);
  CHECK(too_small.error().pointer == "/plan");
  CHECK(too_small.error().message.find("3 seats") != std::string::npos);
  auto down = subscription::decide_change_plan(s, "org-1", ref("pro"), ref("enterprise"), 4, kNow);
  CHECK(down->events[0].data.at("direction").as_string() == "downgrade");
}

TEST_CASE("a flag override is recorded once per value and cleared with null") {
  subscription::State s;
  auto set = subscription::decide_override_flag(s, "org-1", "beta", std::string("on"));
  s = fold(s, set);
  CHECK(s.overrides.at("beta") == "on");
  CHECK(types(subscription::decide_override_flag(s, "org-1", "beta", std::string("on"))).empty());
  s = fold(s, subscription::decide_override_flag(s, "org-1", "beta", std::nullopt));
  CHECK(s.overrides.empty());
  CHECK(types(subscription::decide_override_flag(s, "org-1", "beta", std::nullopt)).empty());
}
