// Traits binding each aggregate's pure functions to AggregateStore::load<A>().
#pragma once

#include "engine/aggregates/api_key.h"
#include "engine/aggregates/inbox.h"
#include "engine/aggregates/organization.h"
#include "engine/aggregates/retention.h"
#include "engine/aggregates/run.h"
#include "engine/aggregates/session.h"
#include "engine/aggregates/subject.h"
#include "engine/aggregates/subscription.h"
#include "engine/aggregates/user.h"
#include "engine/aggregates/workflow.h"
#include "engine/pipeline.h"
#include "events/json_fields.h"

namespace causeway {

// A is one of these: A::State, A::kStateFormat and A::apply, as
// AggregateStore::load<A>() and settle() below expect.
template <class S, std::uint32_t Format,
          void (*Apply)(S&, const std::string&, const boost::json::object&, std::int64_t)>
struct AggregateTraits {
  using State = S;
  static constexpr std::uint32_t kStateFormat = Format;
  static void apply(State& s, const std::string& t, const boost::json::object& d, std::int64_t at) {
    Apply(s, t, d, at);
  }
};

using UserAggregate = AggregateTraits<user::State, user::kStateFormat, &user::apply>;
using OrganizationAggregate = AggregateTraits<organization::State, organization::kStateFormat, &organization::apply>;
using ApiKeyAggregate = AggregateTraits<api_key::State, api_key::kStateFormat, &api_key::apply>;
using SubjectAggregate = AggregateTraits<subject::State, subject::kStateFormat, &subject::apply>;
using DsrAggregate = AggregateTraits<dsr::State, dsr::kStateFormat, &dsr::apply>;
using SessionAggregate = AggregateTraits<session::State, session::kStateFormat, &session::apply>;
using RetentionAggregate = AggregateTraits<retention::State, retention::kStateFormat, &retention::apply>;
using WorkflowAggregate = AggregateTraits<workflow_agg::State, workflow_agg::kStateFormat, &workflow_agg::apply>;
using RunAggregate = AggregateTraits<run::State, run::kStateFormat, &run::apply>;
using InboxAggregate = AggregateTraits<inbox::State, inbox::kStateFormat, &inbox::apply>;
using SubscriptionAggregate =
    AggregateTraits<subscription::State, subscription::kStateFormat, &subscription::apply>;

// The tail every handler's plan shares: folds the decision's events into
// `state` (which then holds the state after the command) and moves the
// decision and the resulting aggregate record into `plan` (stream already set).
template <class A>
void settle(Plan& plan, typename A::State& state, Decision decision, std::int64_t now) {
  for (const auto& e : decision.events) A::apply(state, e.type, e.data, now);
  plan.decision = std::move(decision);
  plan.record = {plan.stream, A::kStateFormat, AggregateStore::encode(state)};
}

// The plan of a command on an existing stream of aggregate A: loads it,
// decides on its state (`decide(state)` -> Result<Decision>), settles, and lets
// `reply(plan, state_after)` fill the reply. Status 200.
template <class A, class Decide, class Reply>
Result<Plan> plan_on(CommandPipeline& pipe, const std::string& stream, std::int64_t now, Decide&& decide,
                     Reply&& reply) {
  auto loaded = pipe.aggregates().load<A>(stream);
  if (!loaded) return std::move(loaded).error();
  auto d = decide(loaded->state);
  if (!d) return std::move(d).error();
  typename A::State state = loaded->state;
  Plan plan;
  plan.stream = stream;
  plan.expected = loaded->version;
  plan.status = 200;
  settle<A>(plan, state, std::move(d).value(), now);
  reply(plan, state);
  return plan;
}

// Ok when `id` names an existing entity of aggregate A, else Errc::not_found
// with `missing` (or `invalid` at `pointer` when one is given).
template <class A>
Status require_existing(CommandPipeline& pipe, const std::string& id, const char* missing,
                        const std::string& pointer = {}) {
  auto loaded = pipe.aggregates().load<A>(id);
  if (!loaded) return std::move(loaded).error();
  if (!loaded->state.exists) return pointer.empty() ? Error::not_found(missing) : Error::invalid(missing, pointer);
  return ok_status();
}

inline std::string json_string(const boost::json::object& o, const char* key) { return string_field(o, key); }

}  // namespace causeway
