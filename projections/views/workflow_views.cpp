// The "workflows" projection (workflow_views.h) as rules. workflow.* events
// write workflows and workflow_versions; every run.* event updates its run's
// row in workflow_runs and appends one row to workflow_steps.
//
// A run's status follows its latest status-bearing event (with parallel
// branches, the branch that moved last):
//   running    run.started, run.step_*, run.event_received, run.timer_fired
//   waiting    run.timer_set (delay, retry, wait_timeout), run.retry_scheduled,
//              run.event_awaited
//   completed, failed, cancelled: run.completed, run.failed, run.cancelled
//   failed (never started): run.trigger_failed, the only event of a run whose
//              triggering event did not fit the workflow's input
// Only a live run (running or waiting) changes status: the final ones stay.
// The run_timeout timer (set at start, fired to fail the run) changes neither
// status nor current_node. "Progress" is every run event but run.marked_stuck:
// it clears stuck and sets last_progress_at.
//
// Bump the version whenever a rule or schemas/views/workflows.sql changes.
#include "projections/views/workflow_views.h"

#include <fmt/format.h>

#include "projections/rule_projection.h"
#include "events/json_fields.h"

namespace causeway {
namespace {

using json = boost::json::object;
using E = Event;

constexpr int kVersion = 3;  // 2: run.trigger_failed; 3: workflow_steps keyed by (partition, position)

const json& object_field(const json& d, const char* key) {
  static const json empty;
  auto* v = d.if_contains(key);
  return v && v->is_object() ? v->as_object() : empty;
}

// The event's org_id, else its tenant (the same for every workflow and run event).
std::string org_of(const E& e, const json& d) {
  std::string org = field(d, "org_id");
  return org.empty() ? e.tenant : org;
}

// Parameter i: the string at d[key], NULL when absent or empty.
void bind_text_or_null(sql::Stmt& s, int i, const json& d, const char* key) {
  std::string v = field(d, key);
  if (v.empty()) s.bind_null(i);
  else s.bind(i, v);
}

// Parameter i: the integer at d[key], NULL when absent.
void bind_int_or_null(sql::Stmt& s, int i, const json& d, const char* key) {
  auto* v = d.if_contains(key);
  if (v && v->is_int64()) s.bind(i, v->as_int64());
  else s.bind_null(i);
}

std::vector<Rule> workflow_rules() {
  return {
      {"workflow.created",
       "INSERT INTO workflows(workflow_id, org_id, name, status, latest_version, draft_hash, public, "
       "forked_from_workflow, forked_from_version, template, created_at, updated_at, position) "
       "VALUES (?1, ?2, ?3, 'draft', NULL, ?4, 0, ?5, ?6, ?7, ?8, ?8, ?9)",
       [](sql::Stmt& s, const E& e, const json& d) {
         const json& fork = object_field(d, "forked_from");
         s.bind_all(field(d, "workflow_id"), org_of(e, d), field(d, "name"), field(d, "draft_hash"));
         bind_text_or_null(s, 5, fork, "workflow_id");
         bind_int_or_null(s, 6, fork, "version");
         bind_text_or_null(s, 7, d, "template");
         s.bind(8, e.occurred_at_us);
         s.bind(9, static_cast<std::int64_t>(e.position));
       }},
      {"workflow.draft_updated",
       "UPDATE workflows SET name = ?, draft_hash = ?, updated_at = ?, position = ? WHERE workflow_id = ?",
       [](sql::Stmt& s, const E& e, const json& d) {
         s.bind_all(field(d, "name"), field(d, "draft_hash"), e.occurred_at_us, e.position, field(d, "workflow_id"));
       }},
      {"workflow.published",
       "INSERT INTO workflow_versions(workflow_id, version, org_id, hash, published_at, published_by, position) "
       "VALUES (?,?,?,?,?,?,?)",
       [](sql::Stmt& s, const E& e, const json& d) {
         s.bind_all(field(d, "workflow_id"), int_field(d, "version"), org_of(e, d), field(d, "hash"), e.occurred_at_us,
                    e.actor.id, e.position);
       }},
      {"workflow.published",
       "UPDATE workflows SET status = CASE WHEN status = 'archived' THEN status ELSE 'published' END, "
       "latest_version = ?, updated_at = ?, position = ? WHERE workflow_id = ?",
       [](sql::Stmt& s, const E& e, const json& d) {
         s.bind_all(int_field(d, "version"), e.occurred_at_us, e.position, field(d, "workflow_id"));
       }},
      {"workflow.archived",
       "UPDATE workflows SET status = 'archived', updated_at = ?, position = ? WHERE workflow_id = ?",
       [](sql::Stmt& s, const E& e, const json& d) {
         s.bind_all(e.occurred_at_us, e.position, field(d, "workflow_id"));
       }},
      {"workflow.sharing_changed",
       "UPDATE workflows SET public = ?, updated_at = ?, position = ? WHERE workflow_id = ?",
       [](sql::Stmt& s, const E& e, const json& d) {
         s.bind_all(std::int64_t{bool_field(d, "public")}, e.occurred_at_us, e.position, field(d, "workflow_id"));
       }},
  };
}

constexpr const char* kLive = "status IN ('running', 'waiting')";

// The assignment making a live run's status `to`.
std::string becomes(const char* to) {
  return fmt::format("status = CASE WHEN {} THEN '{}' ELSE status END", kLive, to);
}

using Extra = void (*)(sql::Stmt&, const json&);

// A progress event's update of its run's row: `set` (may be empty), then stuck
// cleared and last_progress_at, updated_at and position stamped. Parameters:
// ?1 occurred_at, ?2 position, ?3 run_id; `extra` binds ?4 on.
Rule progress(const char* type, const std::string& set, Extra extra = nullptr) {
  std::string q = "UPDATE workflow_runs SET ";
  if (!set.empty()) q += set + ", ";
  q += "stuck = 0, last_progress_at = ?1, updated_at = ?1, position = ?2 WHERE run_id = ?3";
  return {type, std::move(q), [extra](sql::Stmt& s, const E& e, const json& d) {
            s.bind_all(e.occurred_at_us, e.position, field(d, "run_id"));
            if (extra) extra(s, d);
          }};
}

void bind_node(sql::Stmt& s, const json& d) { s.bind(4, field(d, "node")); }
void bind_timer(sql::Stmt& s, const json& d) { s.bind(4, field(d, "timer")); }
void bind_node_timer(sql::Stmt& s, const json& d) {
  s.bind(4, field(d, "node"));
  s.bind(5, field(d, "timer"));
}
void bind_failure(sql::Stmt& s, const json& d) {
  bind_text_or_null(s, 4, d, "error_class");
  bind_text_or_null(s, 5, d, "error");
  bind_text_or_null(s, 6, d, "node");
}

// Every run event of docs/workflows.md ("Events").
const char* const kRunEvents[] = {
    "run.started",         "run.step_scheduled", "run.step_started", "run.step_succeeded", "run.step_failed",
    "run.retry_scheduled", "run.timer_set",      "run.timer_fired",  "run.event_awaited",  "run.event_received",
    "run.event_emitted",   "run.marked_stuck",   "run.completed",    "run.failed",         "run.cancelled",
    "run.restarted",       "run.trigger_failed"};

// A run's row, from its first event: run.started (running) or
// run.trigger_failed (failed at once, with its error).
Rule first_event(const char* type) {
  return {type,
          "INSERT INTO workflow_runs(run_id, org_id, workflow_id, version, hash, status, stuck, current_node, "
          "trigger_kind, started_at, updated_at, ended_at, last_progress_at, steps, attempts_failed, error_class, "
          "error, position) VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?9 IS NULL THEN 'running' ELSE 'failed' END, 0, "
          "NULL, ?6, ?7, ?7, CASE WHEN ?9 IS NULL THEN NULL ELSE ?7 END, ?7, 0, 0, ?9, ?10, ?8)",
          [](sql::Stmt& s, const E& e, const json& d) {
            s.bind_all(field(d, "run_id"), org_of(e, d), field(d, "workflow_id"), int_field(d, "version"),
                       field(d, "hash"), field(object_field(d, "trigger"), "kind"), e.occurred_at_us, e.position);
            bind_text_or_null(s, 9, d, "error_class");
            bind_text_or_null(s, 10, d, "error");
          }};
}

std::vector<Rule> run_rules() {
  const std::string step = becomes("running") + ", steps = steps + 1";
  std::vector<Rule> out = {
      first_event("run.started"),
      // A run whose triggering event did not fit the input: failed before its first step.
      first_event("run.trigger_failed"),
      progress("run.step_scheduled", step + ", current_node = ?4", bind_node),
      progress("run.step_started", step + ", current_node = ?4", bind_node),
      progress("run.step_succeeded", step),
      progress("run.step_failed", step + ", attempts_failed = attempts_failed + 1"),
      progress("run.retry_scheduled", becomes("waiting")),
      progress("run.timer_set",
               fmt::format("status = CASE WHEN ?5 <> 'run_timeout' AND {} THEN 'waiting' ELSE status END, "
                           "current_node = CASE WHEN ?5 = 'run_timeout' THEN current_node ELSE ?4 END",
                           kLive),
               bind_node_timer),
      progress("run.timer_fired",
               fmt::format("status = CASE WHEN ?4 <> 'run_timeout' AND {} THEN 'running' ELSE status END", kLive),
               bind_timer),
      progress("run.event_awaited", becomes("waiting") + ", current_node = ?4", bind_node),
      progress("run.event_received", becomes("running")),
      progress("run.event_emitted", ""),
      progress("run.completed", "status = 'completed', ended_at = ?1"),
      progress("run.failed",
               "status = 'failed', ended_at = ?1, error_class = ?4, error = ?5, "
               "current_node = COALESCE(?6, current_node)",
               bind_failure),
      progress("run.cancelled", "status = 'cancelled', ended_at = ?1"),
      progress("run.restarted", "status = 'running', ended_at = NULL, error_class = NULL, error = NULL"),
      {"run.marked_stuck",
       fmt::format("UPDATE workflow_runs SET stuck = CASE WHEN {} THEN 1 ELSE stuck END, updated_at = ?, "
                   "position = ? WHERE run_id = ?",
                   kLive),
       [](sql::Stmt& s, const E& e, const json& d) { s.bind_all(e.occurred_at_us, e.position, field(d, "run_id")); }},
  };
  // The timeline: one row per run event, fields the event does not have NULL.
  for (const char* type : kRunEvents) {
    out.push_back(
        {type,
         "INSERT INTO workflow_steps(partition, position, run_id, org_id, node, visit, attempt, event, at, "
         "error_class, error, due_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
         [](sql::Stmt& s, const E& e, const json& d) {
           s.bind_all(e.partition, e.position, field(d, "run_id"), org_of(e, d));
           bind_text_or_null(s, 5, d, "node");
           bind_int_or_null(s, 6, d, "visit");
           bind_int_or_null(s, 7, d, "attempt");
           s.bind(8, std::string_view(e.type).substr(e.type.starts_with("run.") ? 4 : 0));
           s.bind(9, e.occurred_at_us);
           bind_text_or_null(s, 10, d, "error_class");
           bind_text_or_null(s, 11, d, "error");
           bind_int_or_null(s, 12, d, "due_at");
         }});
  }
  return out;
}

}  // namespace

std::unique_ptr<Projection> workflows_projection() {
  std::vector<Rule> rules = workflow_rules();
  for (auto& r : run_rules()) rules.push_back(std::move(r));
  return std::make_unique<RuleProjection>(
      "workflows", kVersion,
      std::vector<std::string>{"workflows", "workflow_versions", "workflow_runs", "workflow_steps"},
      std::move(rules));
}

}  // namespace causeway
