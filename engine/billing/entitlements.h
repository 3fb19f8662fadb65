// Entitlements: what an organization's plan lets it do, enforced at command
// time (docs/billing.md).
//
// Installed as the pipeline's meter (CommandPipeline::set_meter), it sees every
// plan that writes events for a tenant and
//   - refuses it while the tenant is suspended for non-payment (402), except
//     the subscription.* commands that can restore it and the ways out
//     (leaving, declining or revoking an invitation);
//   - refuses a feature the plan lacks (403; today: cron schedules in a
//     published workflow need "workflow_schedules"), naming the plan to upgrade to;
//   - refuses an invitation past the plan's seats (402), counting members
//     and pending invitations from the organization's state; the commit's
//     expected version makes concurrent invitations decide one at a time;
//   - adds usage counters to the commit, checked against the plan's limits by
//     the log writer in the same atomic batch as the events (CounterAdd), so
//     each run, ingested event and API call counts exactly once and a limit
//     can never be passed, even by concurrent commands (402 with the limit,
//     the usage and an upgrade hint).
// Counters are per calendar month (UTC): "usage:<org>:<metric>:<yyyy-mm>".
//
// Thread safety: meter() and the readers may run concurrently.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <string>

#include "engine/aggregate_store.h"
#include "engine/aggregates/subscription.h"
#include "engine/billing/plans.h"
#include "engine/pipeline.h"

namespace causeway::billing {

// "usage:<org>:<metric>:<yyyy-mm>" for the month holding `now_us`.
std::string counter_key(const std::string& org_id, Metric m, std::int64_t now_us);

// The seats an organization takes at `now_us`: its members and its pending
// invitations (organization::seats_taken).
Result<std::int64_t> seats_used(AggregateStore& aggregates, const std::string& org_id, std::int64_t now_us);

subscription::PlanRef plan_ref(const PlanSpec& p);

// As replies show them: the subscription's plan, status and the dates that
// apply to its status (RFC 3339, or null); and limits by their configuration
// names (null: unlimited).
boost::json::object subscription_json(const subscription::State& s, const std::string& plan,
                                      const std::string& org_id);
boost::json::object limits_json(const Limits& l);

class Entitlements {
 public:
  Entitlements(const Plans& plans, CommandPipeline& pipe) : plans_(plans), pipe_(pipe) {}

  Status meter(const CommandContext& ctx, const std::string& command, Plan& plan, std::int64_t now_us);

  struct Standing {
    subscription::State state;
    std::uint64_t version = 0;
    const PlanSpec* plan = nullptr;  // in force
  };
  Result<Standing> standing(const std::string& org_id);
  // This month's usage of every metric (seats: the members now).
  Result<std::map<Metric, std::int64_t>> usage(const std::string& org_id, std::int64_t now_us);
  // The subscription as the API shows it: plan, status, dates, limits,
  // features and this month's usage.
  Result<boost::json::object> describe(const std::string& org_id, std::int64_t now_us);

  const Plans& plans() const { return plans_; }

 private:
  CounterAdd counted(const std::string& org_id, const PlanSpec& plan, Metric m, std::int64_t delta,
                     std::int64_t now_us) const;
  // Ok when `more` seats fit the plan beside those taken; else 402 with the limit, usage and upgrade hint.
  Status seats(const std::string& org_id, const PlanSpec& plan, std::int64_t more, std::int64_t now_us);

  const Plans& plans_;
  CommandPipeline& pipe_;
};

}  // namespace causeway::billing
