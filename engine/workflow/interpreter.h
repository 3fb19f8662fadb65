// The run interpreter: given a compiled definition, a run's control state and
// its context, decides the run's next events — pure, deterministic, no I/O.
//
// Real runs (engine/commands/run_commands.cpp) and dry-runs (dry_run.h) call
// the same functions, so a dry-run with mocked action outputs produces exactly
// the events a real run with those outputs produces.
//
// One call works the run as far as it can go without the outside world:
// conditions, set and emit actions, parallel splits, joins and ends are
// decided in the same call that reaches them. It stops at external actions
// (an http attempt is decided as run.step_started and returned as an Effect to
// send), at timers (delay, retry, wait timeout, run timeout) and at waits for
// events. The caller feeds the results back: action outcomes, arrived events,
// and `now` (timers due at or before it fire).
//
// Every event's data carries run_id, org_id and workflow_id; every event's
// subjects are [the run's subject]. `s` and `c` are updated as events are
// decided (run::apply, run::fold_context).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/aggregates/run.h"
#include "engine/decision.h"
#include "engine/workflow/definition.h"

namespace causeway::workflow {

// What became of one external action attempt.
struct Outcome {
  std::string node;
  std::int32_t visit = 0, attempt = 0;
  bool ok = false;
  boost::json::value output;          // ok: {status, body, headers}
  std::string error_class, error;     // not ok: http_4xx | http_5xx | timeout | connection | too_large |
                                      // invalid_url | invalid_request | forbidden_destination (http_call) |
                                      // start_failed
};

// Error classes no retry can cure, final whatever the node's retry policy says:
// forbidden_destination (the egress policy refuses the action's host).
inline bool never_retried(std::string_view error_class) { return error_class == "forbidden_destination"; }

// An event delivered to a waiting node.
struct Arrival {
  std::string node;
  std::int32_t visit = 0;
  std::string event_type;
  std::uint64_t position = 0;
  boost::json::value payload;
};

// An external action to perform now, fully rendered: an HTTP request
// (kind "http") or the start of another workflow's run (kind
// "start_workflow"; its run id is derived from the idempotency key, so a
// resent start finds the run it already started).
struct Effect {
  std::string kind;
  std::string node;
  std::int32_t visit = 0, attempt = 0;
  std::string idempotency_key;  // "<run id>.<node>.<visit>": the same on every attempt
  std::string method, url, body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::int64_t timeout_ms = 10'000;
  std::string workflow_id;      // start_workflow
  boost::json::object input;    // start_workflow
};

struct Step {
  std::vector<DraftEvent> events;
  std::vector<Effect> effects;
  std::int64_t next_due_us = 0;  // earliest timer still set (0: none)
};

struct StartInfo {
  std::string run_id, org_id, workflow_id, hash, subject;
  std::int64_t version = 0;
  boost::json::object input;    // already checked against the definition's input
  boost::json::object trigger;  // {kind, ...}
};

// The input fields a definition declares, checked: unknown fields are refused,
// declared ones of the wrong type too (pointer "/input/<field>"); missing ones
// become null.
Result<boost::json::object> check_input(const Definition& def, const boost::json::object& input);

// A new run: run.started, then as far as it goes.
Step start(const Definition& def, run::State& s, run::Context& c, const StartInfo& info, std::int64_t now_us);
// An existing running run: outcomes and arrivals first, then due timers, then
// as far as it goes. Outcomes and arrivals that match no live attempt or wait
// are ignored (a duplicate delivery writes nothing).
Step advance(const Definition& def, run::State& s, run::Context& c, const std::vector<Outcome>& outcomes,
             const std::vector<Arrival>& arrivals, std::int64_t now_us);
// The external actions the run awaits (phase started), rendered again from
// the context: what the executor sends after a commit, and sends again after
// a restart of the process — as a retry with the same idempotency key.
std::vector<Effect> pending_effects(const Definition& def, const run::State& s, const run::Context& c);
// Cancel (run.cancelled) or restart a failed run from its failed step
// (run.restarted, then as far as it goes).
Step cancel(run::State& s, const std::string& reason, std::int64_t now_us);
Step restart(const Definition& def, run::State& s, run::Context& c, std::int64_t now_us);
// The run made no progress since `since` (run.marked_stuck).
Step mark_stuck(run::State& s);

// The earliest due time among the run's timers (0: none).
std::int64_t next_due(const run::State& s);
// The run's nodes waiting for `event_type` with this correlation, for an
// event recorded at `recorded_at_us` (events older than the wait never match).
std::vector<std::pair<std::string, std::int32_t>> waiting_for(const run::State& s, const std::string& event_type,
                                                              const std::string& correlation,
                                                              std::int64_t recorded_at_us);

}  // namespace causeway::workflow
