#include "engine/aggregates/run.h"

#include <algorithm>
#include "events/json_fields.h"

namespace causeway::run {
namespace json = boost::json;

namespace {

// The Pending entry an event is about, or null.
Pending* about(State& s, const json::object& d) {
  auto it = s.pending.find(pending_key(string_field(d, "node"), static_cast<std::int32_t>(int_field(d, "visit"))));
  return it == s.pending.end() ? nullptr : &it->second;
}

void erase_about(State& s, const json::object& d) {
  s.pending.erase(pending_key(string_field(d, "node"), static_cast<std::int32_t>(int_field(d, "visit"))));
}

void schedule(State& s, const json::object& d) {
  const std::string node = string_field(d, "node");
  const auto visit = static_cast<std::int32_t>(int_field(d, "visit"));
  auto& seen = s.visits[node];
  seen = std::max(seen, visit);
  const std::string key = pending_key(node, visit);
  auto [it, fresh] = s.pending.try_emplace(key);
  Pending& p = it->second;
  if (fresh) {
    p.node = node;
    p.visit = visit;
    p.phase = string_field(d, "kind") == "join" ? Phase::joining : Phase::ready;
  }
  if (auto from = string_field(d, "from"); !from.empty() && p.phase == Phase::joining) p.arrived.insert(from);
}

void on_timer_set(State& s, const json::object& d) {
  const std::string timer = string_field(d, "timer");
  const std::int64_t due = int_field(d, "due_at");
  if (timer == "run_timeout") {
    s.timeout_at = due;
    return;
  }
  Pending* p = about(s, d);
  if (!p) return;
  if (timer == "delay") p->phase = Phase::delay_wait;
  p->due_at = due;
}

void on_timer_fired(State& s, const json::object& d) {
  if (string_field(d, "timer") == "run_timeout") return;
  if (Pending* p = about(s, d)) {
    p->phase = Phase::ready;
    p->due_at = 0;
  }
}

}  // namespace

std::string stream_of(const std::string& run_id) { return run_id; }

std::string pending_key(const std::string& node, std::int32_t visit) { return node + "#" + std::to_string(visit); }

const char* status_name(Status s) {
  switch (s) {
    case Status::none: return "none";
    case Status::running: return "running";
    case Status::completed: return "completed";
    case Status::failed: return "failed";
    case Status::cancelled: return "cancelled";
  }
  return "none";
}

bool ended(Status s) { return s == Status::completed || s == Status::failed || s == Status::cancelled; }

namespace {
// The run's first event (run.started, or run.trigger_failed) names it.
void begin(State& s, const json::object& d, std::int64_t at, Status status) {
  s.status = status;
  s.run_id = string_field(d, "run_id");
  s.org_id = string_field(d, "org_id");
  s.workflow_id = string_field(d, "workflow_id");
  s.hash = string_field(d, "hash");
  s.subject = string_field(d, "subject");
  s.version = int_field(d, "version");
  s.started_at = at;
}
}  // namespace

void apply(State& s, const std::string& type, const json::object& d, std::int64_t at) {
  if (type != "run.marked_stuck") {
    s.last_progress_at = at;
    s.stuck = false;
  }
  if (type == "run.started") {
    begin(s, d, at, Status::running);
  } else if (type == "run.trigger_failed") {
    begin(s, d, at, Status::failed);
    s.never_started = true;
  } else if (type == "run.step_scheduled") {
    schedule(s, d);
  } else if (type == "run.step_started") {
    if (Pending* p = about(s, d)) {
      p->phase = Phase::started;
      p->attempt = static_cast<std::int32_t>(int_field(d, "attempt"));
    }
  } else if (type == "run.step_succeeded") {
    erase_about(s, d);
  } else if (type == "run.step_failed") {
    if (bool_field(d, "final")) erase_about(s, d);
  } else if (type == "run.retry_scheduled") {
    if (Pending* p = about(s, d)) {
      p->phase = Phase::retry_wait;
      p->attempt = static_cast<std::int32_t>(int_field(d, "attempt"));
      p->due_at = int_field(d, "due_at");
    }
  } else if (type == "run.timer_set") {
    on_timer_set(s, d);
  } else if (type == "run.timer_fired") {
    on_timer_fired(s, d);
  } else if (type == "run.event_awaited") {
    if (Pending* p = about(s, d)) {
      p->phase = Phase::event_wait;
      p->event_type = string_field(d, "event_type");
      p->correlation = string_field(d, "correlation");
      p->awaited_at = at;
    }
  } else if (type == "run.marked_stuck") {
    s.stuck = true;
  } else if (type == "run.completed") {
    s.status = Status::completed;
    s.pending.clear();
  } else if (type == "run.failed") {
    s.status = Status::failed;
    s.failed_node = string_field(d, "node");
    s.failed_visit = static_cast<std::int32_t>(int_field(d, "visit"));
  } else if (type == "run.cancelled") {
    s.status = Status::cancelled;
    s.pending.clear();
  } else if (type == "run.restarted") {
    s.status = Status::running;
    s.timeout_at = 0;
    if (!s.failed_node.empty()) {
      Pending p;
      p.node = s.failed_node;
      p.visit = s.failed_visit;
      p.attempt = 0;
      s.pending[pending_key(p.node, p.visit)] = std::move(p);
    }
    s.failed_node.clear();
    s.failed_visit = 0;
  }
}

json::object Context::as_object() const {
  json::object o;
  o["input"] = input;
  o["vars"] = vars;
  o["steps"] = steps;
  return o;
}

void fold_context(Context& c, const std::string& type, const json::object& d, bool is_set_node) {
  if (type == "run.started") {
    if (auto* in = d.if_contains("input"); in && in->is_object()) c.input = in->as_object();
  } else if (type == "run.step_succeeded") {
    auto* out = d.if_contains("output");
    if (!out) return;
    c.steps[string_field(d, "node")] = *out;
    if (is_set_node && out->is_object())
      for (const auto& [k, v] : out->as_object()) c.vars[k] = v;
  }
}

}  // namespace causeway::run
