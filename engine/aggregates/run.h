// The workflow run aggregate (stream: the run id, "run-<32 hex>"): the control state of one
// run of one pinned workflow version. Tenant: the run's organization. Pure.
//
// The state holds only control data — which nodes are live, in which phase,
// with which attempt and deadline. The run's context (input, variables, step
// outputs) is personal data sealed in the events (docs/workflows.md "Events")
// and is never kept in the plaintext state: fold_context() rebuilds it from
// the opened events (engine/workflow/catalog.h keeps it warm).
//
// A live node is a Pending entry keyed "<node>#<visit>" (visit: how often the
// run entered that node, from 1). Phases:
//   ready      scheduled, not yet worked on (internal nodes are worked on in
//              the same decision that scheduled them)
//   started    an external action's attempt was sent (run.step_started); its
//              outcome is awaited
//   retry_wait a failed attempt waits for its retry timer
//   delay_wait a delay node waits for its timer
//   event_wait a wait node waits for a correlated event (and its timeout)
//   joining    a join waits for branches on its other incoming edges
// The interpreter (engine/workflow/interpreter.h) decides the events; apply()
// folds them, so the interpreter can apply as it decides.
#pragma once

#include <boost/json/object.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace causeway::run {

enum class Status : std::uint8_t { none, running, completed, failed, cancelled };
enum class Phase : std::uint8_t { ready, started, retry_wait, delay_wait, event_wait, joining };

struct Pending {
  std::string node;
  std::int32_t visit = 1;
  std::int32_t attempt = 0;  // of an action: the attempt started or to start next
  Phase phase = Phase::ready;
  std::int64_t due_at = 0;   // retry_wait, delay_wait, event_wait (timeout; 0: none)
  std::string event_type, correlation;  // event_wait
  std::int64_t awaited_at = 0;          // event_wait: only events recorded since then match
  std::set<std::string> arrived;        // joining: sources that arrived
  template <class Ar>
  void serialize(Ar& ar) { ar(node, visit, attempt, phase, due_at, event_type, correlation, awaited_at, arrived); }
};

struct State {
  Status status = Status::none;
  std::string run_id, org_id, workflow_id, hash, subject;
  std::int64_t version = 0;
  std::int64_t started_at = 0, last_progress_at = 0, timeout_at = 0;
  bool stuck = false;
  std::map<std::string, std::int32_t> visits;  // node -> times entered
  std::map<std::string, Pending> pending;      // "<node>#<visit>" -> live node
  std::string failed_node;                     // after run.failed: where (for a restart)
  std::int32_t failed_visit = 0;
  // run.trigger_failed: the triggering event did not fit the declared input,
  // so the run failed before its first step and cannot be restarted.
  bool never_started = false;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(status, run_id, org_id, workflow_id, hash, subject, version, started_at, last_progress_at, timeout_at, stuck,
       visits, pending, failed_node, failed_visit, never_started);
  }
};
inline constexpr std::uint32_t kStateFormat = 2;  // 2: never_started

std::string stream_of(const std::string& run_id);  // the id itself
std::string pending_key(const std::string& node, std::int32_t visit);
const char* status_name(Status s);
bool ended(Status s);  // completed, failed or cancelled

// Folds one run event (data as decided, or as stored: only control fields are
// read, never sealed ones).
void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

// The run context {input, vars, steps} from opened event data: run.started's
// input, every run.step_succeeded's output (at steps.<node>; a set action's
// also merged into vars). `set_nodes` tells which nodes are set actions.
struct Context {
  boost::json::object input, vars, steps;
  boost::json::object as_object() const;
};
void fold_context(Context& c, const std::string& type, const boost::json::object& data, bool is_set_node);

}  // namespace causeway::run
