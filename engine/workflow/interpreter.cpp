#include "engine/workflow/interpreter.h"

#include "engine/ids.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace causeway::workflow {
namespace json = boost::json;

namespace {

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  return h;
}

// Whether `v` can be a mail's recipient: one address, local@domain, no
// spaces or control characters (a template's null renders as no address).
bool is_mail_address(const json::value& v) {
  if (!v.is_string()) return false;
  const std::string_view a = v.get_string();
  const auto at = a.find('@');
  if (a.size() > 254 || at == 0 || at == std::string_view::npos || at + 1 == a.size()) return false;
  if (a.find('@', at + 1) != std::string_view::npos) return false;
  return std::none_of(a.begin(), a.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == ',' || c == ';' || c == '<' || c == '>' || c == 0x7f;
  });
}

// What an expression gave, by kind only (its value may be personal data).
std::string kind_of_value(const json::value& v) {
  if (v.is_null()) return "null";
  if (v.is_string()) return "a string that is not one";
  if (v.is_bool()) return "a boolean";
  if (v.is_number()) return "a number";
  return v.is_array() ? "an array" : "an object";
}

std::string as_text(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

bool type_matches(Type t, const json::value& v) {
  switch (t) {
    case Type::any: return true;
    case Type::null: return v.is_null();
    case Type::boolean: return v.is_bool();
    case Type::number: return v.is_number();
    case Type::string: return v.is_string();
    case Type::object: return v.is_object();
    case Type::array: return v.is_array();
  }
  return false;
}

// One decision: works the run as far as it goes, recording events in `out`.
class Decider {
 public:
  Decider(const Definition& def, run::State& s, run::Context& c, std::int64_t now)
      : def_(def), s_(s), c_(c), now_(now) {}

  Step finish() {
    out_.next_due_us = s_.status == run::Status::running ? next_due(s_) : 0;
    return std::move(out_);
  }

  void started(const StartInfo& info) {
    json::object d;
    d["version"] = info.version;
    d["hash"] = info.hash;
    d["subject"] = info.subject;
    d["input"] = info.input;
    d["trigger"] = info.trigger;
    emit("run.started", std::move(d));
    if (def_.timeout_ms) {
      json::object t;
      t["timer"] = "run_timeout";
      t["due_at"] = now_ + *def_.timeout_ms * 1000;
      emit("run.timer_set", std::move(t));
    }
    enter(def_.trigger, "");
  }

  void outcome(const Outcome& o) {
    auto it = s_.pending.find(run::pending_key(o.node, o.visit));
    if (it == s_.pending.end() || it->second.phase != run::Phase::started || it->second.attempt != o.attempt) return;
    const Node* n = node(o.node);
    if (!n) return;
    if (o.ok) {
      succeed(*n, o.visit, o.attempt, o.output);
      go_next(*n);
      return;
    }
    const bool retryable = !never_retried(o.error_class) && !n->retry.non_retryable.contains(o.error_class) &&
                           o.attempt < n->retry.maximum_attempts;
    json::object f = step_ref(n->id, o.visit, o.attempt);
    f["error_class"] = o.error_class;
    f["error"] = o.error;
    f["retryable"] = retryable;
    f["final"] = !retryable;
    emit("run.step_failed", std::move(f));
    if (!retryable) {
      give_up(*n, o.visit, o.attempt, o.error_class, o.error);
      return;
    }
    const std::uint64_t seed = fnv1a(fmt::format("{}.{}.{}.{}", s_.run_id, n->id, o.visit, o.attempt));
    json::object r = step_ref(n->id, o.visit, o.attempt + 1);
    r["due_at"] = now_ + n->retry.delay_ms(o.attempt, seed) * 1000;
    emit("run.retry_scheduled", std::move(r));
  }

  void arrival(const Arrival& a) {
    auto it = s_.pending.find(run::pending_key(a.node, a.visit));
    if (it == s_.pending.end() || it->second.phase != run::Phase::event_wait) return;
    const Node* n = node(a.node);
    if (!n) return;
    json::object d = step_ref(n->id, a.visit, 0);
    d["event_type"] = a.event_type;
    d["event_position"] = static_cast<std::int64_t>(a.position);
    d["payload"] = a.payload;
    emit("run.event_received", std::move(d));
    json::object output;
    output["event_type"] = a.event_type;
    output["payload"] = a.payload;
    succeed(*n, a.visit, 0, std::move(output));
    go_next(*n);
  }

  // Timers due, then ready nodes, until neither is left.
  void run() {
    while (s_.status == run::Status::running) {
      const bool fired = fire_due();
      if (s_.status != run::Status::running) break;
      const bool worked = drain();
      if (!fired && !worked) break;
    }
    if (s_.status != run::Status::running) return;
    bool only_joins = true;
    std::string join;
    for (const auto& [key, p] : s_.pending) {
      if (p.phase != run::Phase::joining) only_joins = false;
      else if (join.empty()) join = p.node;
    }
    if (s_.pending.empty()) {
      emit("run.completed", {});
    } else if (only_joins) {
      json::object d;
      d["node"] = "";
      d["visit"] = 0;
      d["error_class"] = "join";
      d["error"] = fmt::format("join '{}' can never fire: no branch is left to arrive on its other edges", join);
      emit("run.failed", std::move(d));
    }
  }

  void emit(const char* type, json::object data) {
    data["run_id"] = s_.run_id;
    data["org_id"] = s_.org_id;
    data["workflow_id"] = s_.workflow_id;
    run::apply(s_, type, data, now_);
    const Node* n = nullptr;
    if (auto* v = data.if_contains("node"); v && v->is_string()) n = node(std::string(v->as_string()));
    run::fold_context(c_, type, data,
                      n && n->type == NodeType::action && n->action.kind == ActionKind::set);
    if (std::string_view(type) == "run.started" || std::string_view(type) == "run.step_succeeded") ctx_stale_ = true;
    DraftEvent e;
    e.type = type;
    e.data = std::move(data);
    e.subjects = {s_.subject};
    out_.events.push_back(std::move(e));
  }

 private:
  const Node* node(const std::string& id) const {
    auto it = def_.index.find(id);
    return it == def_.index.end() ? nullptr : &def_.nodes[static_cast<std::size_t>(it->second)];
  }

  json::object step_ref(const std::string& node, std::int32_t visit, std::int32_t attempt) const {
    json::object d;
    d["node"] = node;
    d["visit"] = visit;
    d["attempt"] = attempt;
    return d;
  }

  void enter(int target, const std::string& from) {
    const Node& n = def_.nodes[static_cast<std::size_t>(target)];
    if (n.type == NodeType::join) {
      for (const auto& [key, p] : s_.pending)
        if (p.node == n.id && p.phase == run::Phase::joining) {
          json::object d = step_ref(n.id, p.visit, 0);
          d["kind"] = "join";
          d["from"] = from;
          emit("run.step_scheduled", std::move(d));
          return;
        }
    }
    const std::int32_t visit = s_.visits[n.id] + 1;
    if (n.max_visits && visit > *n.max_visits) {
      json::object d;
      d["node"] = n.id;
      d["visit"] = visit;
      d["error_class"] = "loop_bound";
      d["error"] = fmt::format("node '{}' would be entered a {}th time; its max_visits is {}", n.id, visit,
                               *n.max_visits);
      emit("run.failed", std::move(d));
      return;
    }
    json::object d = step_ref(n.id, visit, 0);
    d["kind"] = node_type_name(n.type);
    if (!from.empty()) d["from"] = from;
    emit("run.step_scheduled", std::move(d));
  }

  void go_next(const Node& n) {
    for (int t : n.next) {
      if (s_.status != run::Status::running) return;
      enter(t, n.id);
    }
  }

  void succeed(const Node& n, std::int32_t visit, std::int32_t attempt, json::value output) {
    json::object d = step_ref(n.id, visit, attempt);
    d["output"] = std::move(output);
    emit("run.step_succeeded", std::move(d));
  }

  // A step failed for good: its error edge, else the run fails.
  void give_up(const Node& n, std::int32_t visit, std::int32_t, const std::string& cls, const std::string& error) {
    if (n.on_error >= 0) {
      enter(n.on_error, n.id);
      return;
    }
    json::object d;
    d["node"] = n.id;
    d["visit"] = visit;
    d["error_class"] = cls;
    d["error"] = error;
    emit("run.failed", std::move(d));
  }

  void fail_step(const Node& n, std::int32_t visit, std::int32_t attempt, const std::string& cls,
                 const std::string& error) {
    json::object f = step_ref(n.id, visit, attempt);
    f["error_class"] = cls;
    f["error"] = error;
    f["retryable"] = false;
    f["final"] = true;
    emit("run.step_failed", std::move(f));
    give_up(n, visit, attempt, cls, error);
  }

  // The context as expressions see it, rebuilt only after a step changed it.
  const json::object& context() {
    if (ctx_stale_) {
      ctx_ = c_.as_object();
      ctx_stale_ = false;
    }
    return ctx_;
  }

  Result<json::value> eval(const ExprPtr& e) {
    if (!e) return json::value(nullptr);
    return evaluate(*e, context());
  }

  Result<json::object> eval_all(const std::vector<std::pair<std::string, ExprPtr>>& values) {
    json::object out;
    for (const auto& [name, expr] : values) {
      auto v = eval(expr);
      if (!v) return Error::invalid(fmt::format("{}: {}", name, v.error().message));
      out[name] = std::move(v).value();
    }
    return out;
  }

  bool fire_due() {
    bool fired = false;
    if (s_.timeout_at && s_.timeout_at <= now_) {
      json::object t;
      t["timer"] = "run_timeout";
      emit("run.timer_fired", std::move(t));
      json::object d;
      d["node"] = "";
      d["visit"] = 0;
      d["error_class"] = "timeout";
      d["error"] = "the run did not end within its timeout_ms";
      emit("run.failed", std::move(d));
      return true;
    }
    std::vector<std::string> due;
    for (const auto& [key, p] : s_.pending)
      if (p.due_at && p.due_at <= now_) due.push_back(key);
    for (const auto& key : due) {
      if (s_.status != run::Status::running) break;
      auto it = s_.pending.find(key);
      if (it == s_.pending.end()) continue;
      const run::Pending p = it->second;
      const Node* n = node(p.node);
      if (!n) continue;
      fired = true;
      json::object t = step_ref(n->id, p.visit, p.attempt);
      if (p.phase == run::Phase::retry_wait) {
        t["timer"] = "retry";
        emit("run.timer_fired", std::move(t));
      } else if (p.phase == run::Phase::delay_wait) {
        t["timer"] = "delay";
        emit("run.timer_fired", std::move(t));
        succeed(*n, p.visit, 0, json::object());
        go_next(*n);
      } else if (p.phase == run::Phase::event_wait) {
        t["timer"] = "wait_timeout";
        emit("run.timer_fired", std::move(t));
        if (n->on_timeout >= 0) {
          json::object output;
          output["timed_out"] = true;
          succeed(*n, p.visit, 0, std::move(output));
          enter(n->on_timeout, n->id);
        } else {
          fail_step(*n, p.visit, 0, "timeout", "no matching event arrived within timeout_ms");
        }
      }
    }
    return fired;
  }

  // Works every ready node; whether any was.
  bool drain() {
    bool worked = false;
    for (;;) {
      if (s_.status != run::Status::running) return worked;
      const run::Pending* ready = nullptr;
      for (const auto& [key, p] : s_.pending)
        if (p.phase == run::Phase::ready || (p.phase == run::Phase::joining && join_complete(p))) {
          ready = &p;
          break;
        }
      if (!ready) return worked;
      worked = true;
      const run::Pending p = *ready;
      if (const Node* n = node(p.node)) work(*n, p);
    }
  }

  bool join_complete(const run::Pending& p) const {
    const Node* n = node(p.node);
    if (!n) return false;
    for (int src : n->incoming)
      if (!p.arrived.contains(def_.nodes[static_cast<std::size_t>(src)].id)) return false;
    return true;
  }

  void work(const Node& n, const run::Pending& p) {
    switch (n.type) {
      case NodeType::trigger:
      case NodeType::parallel:
      case NodeType::join:
      case NodeType::end:
        succeed(n, p.visit, 0, json::object());
        go_next(n);
        return;
      case NodeType::condition: {
        auto v = eval(n.expression);
        if (!v) return fail_step(n, p.visit, 0, "expression", v.error().message);
        if (!v->is_bool())
          return fail_step(n, p.visit, 0, "expression", "the condition did not give a boolean");
        const bool yes = v->as_bool();
        json::object output;
        output["branch"] = yes ? "true" : "false";
        succeed(n, p.visit, 0, std::move(output));
        enter(yes ? n.on_true : n.on_false, n.id);
        return;
      }
      case NodeType::delay: {
        std::int64_t due = now_;
        if (n.duration_ms) {
          due = now_ + *n.duration_ms * 1000;
        } else {
          auto v = eval(n.until);
          if (!v) return fail_step(n, p.visit, 0, "expression", v.error().message);
          if (!v->is_number()) return fail_step(n, p.visit, 0, "expression", "until did not give a number");
          due = static_cast<std::int64_t>(v->to_number<double>()) * 1000;
        }
        json::object t = step_ref(n.id, p.visit, 0);
        t["timer"] = "delay";
        t["due_at"] = std::max(due, now_);
        emit("run.timer_set", std::move(t));
        return;
      }
      case NodeType::wait: {
        auto v = eval(n.correlation);
        if (!v) return fail_step(n, p.visit, 0, "expression", v.error().message);
        json::object d = step_ref(n.id, p.visit, 0);
        d["event_type"] = n.event_type;
        d["correlation"] = as_text(*v);
        emit("run.event_awaited", std::move(d));
        if (n.timeout_ms) {
          json::object t = step_ref(n.id, p.visit, 0);
          t["timer"] = "wait_timeout";
          t["due_at"] = now_ + *n.timeout_ms * 1000;
          emit("run.timer_set", std::move(t));
        }
        return;
      }
      case NodeType::action:
        return act(n, p);
    }
  }

  void act(const Node& n, const run::Pending& p) {
    const Action& a = n.action;
    switch (a.kind) {
      case ActionKind::http:
      case ActionKind::start_workflow:
        return start_external(n, p.visit, std::max<std::int32_t>(1, p.attempt));
      case ActionKind::set: {
        auto values = eval_all(a.values);
        if (!values) return fail_step(n, p.visit, 1, "expression", values.error().message);
        succeed(n, p.visit, 1, std::move(values).value());
        return go_next(n);
      }
      case ActionKind::emit: {
        auto payload = eval_all(a.values);
        if (!payload) return fail_step(n, p.visit, 1, "expression", payload.error().message);
        emitted(n, p.visit, a.event_type, std::move(payload).value());
        json::object output;
        output["event_type"] = a.event_type;
        succeed(n, p.visit, 1, std::move(output));
        return go_next(n);
      }
      case ActionKind::notify: {
        auto user = eval(a.user);
        if (!user) return fail_step(n, p.visit, 1, "expression", user.error().message);
        // The recipient is recorded outside the sealed payload (for the inbox): only a user id, never
        // whatever else an expression gave (an address or a name would be personal data in the clear).
        const std::string recipient = as_text(*user);
        if (!is_id(recipient, "user"))
          return fail_step(n, p.visit, 1, "expression",
                           fmt::format("the notify action's user must be a user id (user-<32 hex>); it gave {}",
                                       kind_of_value(*user)));
        auto message = render(a.message, context());
        if (!message) return fail_step(n, p.visit, 1, "expression", message.error().message);
        const std::string id = fmt::format("{}.{}.{}", s_.run_id, n.id, p.visit);
        json::object payload;
        payload["notification_id"] = id;
        payload["user_id"] = as_text(*user);
        payload["message"] = *message;
        emitted(n, p.visit, "notification.created", std::move(payload), recipient);
        json::object output;
        output["notification_id"] = id;
        succeed(n, p.visit, 1, std::move(output));
        return go_next(n);
      }
      case ActionKind::email: {
        auto to = eval(a.to);
        if (!to) return fail_step(n, p.visit, 1, "expression", to.error().message);
        if (!is_mail_address(*to))
          return fail_step(n, p.visit, 1, "expression",
                           fmt::format("the email action's to must be an email address; it gave {}",
                                       kind_of_value(*to)));
        auto subject = render(a.subject, context());
        if (!subject) return fail_step(n, p.visit, 1, "expression", subject.error().message);
        auto text = render(a.text, context());
        if (!text) return fail_step(n, p.visit, 1, "expression", text.error().message);
        const std::string id = fmt::format("{}.{}.{}", s_.run_id, n.id, p.visit);
        json::object payload;
        payload["message_id"] = id;
        payload["to"] = as_text(*to);
        payload["subject"] = *subject;
        payload["text"] = *text;
        emitted(n, p.visit, "email.queued", std::move(payload));
        json::object output;
        output["message_id"] = id;
        succeed(n, p.visit, 1, std::move(output));
        return go_next(n);
      }
    }
  }

  // `recipient`: a notification's user, outside the (maybe sealed) payload for the inbox view.
  void emitted(const Node& n, std::int32_t visit, const std::string& type, json::object payload,
               const std::string& recipient = {}) {
    json::object d;
    d["node"] = n.id;
    d["visit"] = visit;
    d["event_type"] = type;
    d["payload"] = std::move(payload);
    if (!recipient.empty()) d["recipient"] = recipient;
    emit("run.event_emitted", std::move(d));
  }

  // run.step_started and the Effect, or a final failure if rendering fails.
  void start_external(const Node& n, std::int32_t visit, std::int32_t attempt) {
    auto fx = render_effect(n, visit, attempt);
    if (!fx) return fail_step(n, visit, attempt, "expression", fx.error().message);
    json::object d = step_ref(n.id, visit, attempt);
    d["idempotency_key"] = fx->idempotency_key;
    emit("run.step_started", std::move(d));
    out_.effects.push_back(std::move(fx).value());
  }

 public:
  Result<Effect> render_effect(const Node& n, std::int32_t visit, std::int32_t attempt) {
    Effect fx;
    fx.kind = n.action.kind == ActionKind::http ? "http" : "start_workflow";
    fx.node = n.id;
    fx.visit = visit;
    fx.attempt = attempt;
    fx.idempotency_key = fmt::format("{}.{}.{}", s_.run_id, n.id, visit);
    if (n.timeout_ms) fx.timeout_ms = *n.timeout_ms;
    if (n.action.kind != ActionKind::http) {
      auto input = eval_all(n.action.values);
      if (!input) return std::move(input).error();
      fx.workflow_id = n.action.workflow_id;
      fx.input = std::move(input).value();
      return fx;
    }
    fx.method = n.action.method;
    auto url = render(n.action.url, context());
    if (!url) return std::move(url).error();
    fx.url = std::move(url).value();
    for (const auto& [name, tmpl] : n.action.headers) {
      auto value = render(tmpl, context());
      if (!value) return std::move(value).error();
      fx.headers.emplace_back(name, std::move(value).value());
    }
    auto body = render(n.action.body, context());
    if (!body) return std::move(body).error();
    fx.body = std::move(body).value();
    return fx;
  }

 private:
  const Definition& def_;
  run::State& s_;
  run::Context& c_;
  std::int64_t now_;
  Step out_;
  json::object ctx_;
  bool ctx_stale_ = true;
};

}  // namespace

Result<json::object> check_input(const Definition& def, const json::object& input) {
  json::object out;
  for (const auto& [name, type] : def.input) {
    auto* v = input.if_contains(name);
    if (!v || v->is_null()) {
      out[name] = nullptr;
      continue;
    }
    if (!type_matches(type, *v))
      return Error::invalid(fmt::format("input field '{}' must be of type {}", name, type_name(type)),
                            "/input/" + name);
    out[name] = *v;
  }
  for (const auto& [name, v] : input)
    if (!out.contains(name))
      return Error::invalid(fmt::format("the workflow declares no input field '{}'", std::string(name)),
                            "/input/" + std::string(name));
  return out;
}

Step start(const Definition& def, run::State& s, run::Context& c, const StartInfo& info, std::int64_t now_us) {
  s = run::State{};
  s.run_id = info.run_id;
  s.org_id = info.org_id;
  s.workflow_id = info.workflow_id;
  s.subject = info.subject;
  Decider d(def, s, c, now_us);
  d.started(info);
  d.run();
  return d.finish();
}

Step advance(const Definition& def, run::State& s, run::Context& c, const std::vector<Outcome>& outcomes,
             const std::vector<Arrival>& arrivals, std::int64_t now_us) {
  Decider d(def, s, c, now_us);
  if (s.status != run::Status::running) return d.finish();
  for (const auto& o : outcomes) d.outcome(o);
  for (const auto& a : arrivals) d.arrival(a);
  d.run();
  return d.finish();
}

std::vector<Effect> pending_effects(const Definition& def, const run::State& s, const run::Context& c) {
  std::vector<Effect> out;
  if (s.status != run::Status::running) return out;
  run::State copy = s;
  run::Context ctx = c;
  Decider d(def, copy, ctx, 0);
  for (const auto& [key, p] : s.pending) {
    if (p.phase != run::Phase::started) continue;
    auto it = def.index.find(p.node);
    if (it == def.index.end()) continue;
    if (auto fx = d.render_effect(def.nodes[static_cast<std::size_t>(it->second)], p.visit, p.attempt))
      out.push_back(std::move(fx).value());
  }
  return out;
}

Step cancel(run::State& s, const std::string& reason, std::int64_t now_us) {
  static const Definition none;
  run::Context c;
  Decider d(none, s, c, now_us);
  json::object data;
  data["reason"] = reason;
  d.emit("run.cancelled", std::move(data));
  return d.finish();
}

Step restart(const Definition& def, run::State& s, run::Context& c, std::int64_t now_us) {
  Decider d(def, s, c, now_us);
  json::object data;
  data["node"] = s.failed_node;
  data["visit"] = s.failed_visit;
  d.emit("run.restarted", std::move(data));
  d.run();
  return d.finish();
}

Step mark_stuck(run::State& s) {
  static const Definition none;
  run::Context c;
  Decider d(none, s, c, s.last_progress_at);
  json::object data;
  data["since"] = s.last_progress_at;
  d.emit("run.marked_stuck", std::move(data));
  return d.finish();
}

std::int64_t next_due(const run::State& s) {
  std::int64_t due = s.timeout_at;
  for (const auto& [key, p] : s.pending)
    if (p.due_at && (!due || p.due_at < due)) due = p.due_at;
  return due;
}

std::vector<std::pair<std::string, std::int32_t>> waiting_for(const run::State& s, const std::string& event_type,
                                                              const std::string& correlation,
                                                              std::int64_t recorded_at_us) {
  std::vector<std::pair<std::string, std::int32_t>> out;
  for (const auto& [key, p] : s.pending)
    if (p.phase == run::Phase::event_wait && p.event_type == event_type && p.correlation == correlation &&
        recorded_at_us >= p.awaited_at)
      out.emplace_back(p.node, p.visit);
  return out;
}

}  // namespace causeway::workflow
