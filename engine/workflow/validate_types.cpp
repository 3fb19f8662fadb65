// Variables and types of every expression and template of a definition.
//
// The type environment (docs/workflows.md, "Expressions and templates"):
//   input.<f>        the declared type; members of object, array and any
//                    fields are any
//   vars.<name>      the type the set actions give it: their one known type,
//                    else any (writes of null do not count)
//   steps.<action>   the action's output (the table in "Actions"); a set
//                    action's output has the fields it sets
//   steps.<wait>     {payload: any, event_type: string}
// Other steps (conditions, delays, ...) have no output.
#include <algorithm>
#include <fmt/format.h>
#include <map>

#include "engine/workflow/validation.h"

namespace causeway::workflow::detail {

namespace {

using Members = std::map<std::string, Type>;

bool has_members(Type t) { return t == Type::any || t == Type::object || t == Type::array; }

class Env {
 public:
  Members input, vars;
  std::map<std::string, Members> steps;  // node id -> output fields

  std::optional<Type> resolve(const std::vector<std::string>& path) const {
    if (path[0] == "input") return member(input, path, 1);
    if (path[0] == "vars") return member(vars, path, 1);
    if (path.size() == 1) return Type::object;  // "steps"
    auto it = steps.find(path[1]);
    if (it == steps.end()) return std::nullopt;
    return member(it->second, path, 2);
  }

  TypeEnv type_env() const {
    return TypeEnv{[this](const std::vector<std::string>& p) { return resolve(p); }};
  }

  // The names below a path prefix, for "did you mean".
  std::vector<std::string> names_below(const std::vector<std::string>& prefix) const {
    const Members* m = nullptr;
    if (prefix.size() == 1 && prefix[0] == "input") m = &input;
    else if (prefix.size() == 1 && prefix[0] == "vars") m = &vars;
    else if (prefix.size() == 2 && prefix[0] == "steps" && steps.contains(prefix[1])) m = &steps.at(prefix[1]);
    std::vector<std::string> out;
    if (prefix.size() == 1 && prefix[0] == "steps")
      for (const auto& kv : steps) out.push_back(kv.first);
    if (m)
      for (const auto& kv : *m) out.push_back(kv.first);
    return out;
  }

 private:
  static std::optional<Type> member(const Members& m, const std::vector<std::string>& path, std::size_t at) {
    if (path.size() == at) return Type::object;
    auto it = m.find(path[at]);
    if (it == m.end()) return std::nullopt;
    if (path.size() == at + 1) return it->second;
    return has_members(it->second) ? std::optional<Type>(Type::any) : std::nullopt;
  }
};

Members action_output(ActionKind k) {
  switch (k) {
    case ActionKind::http: return {{"status", Type::number}, {"body", Type::any}, {"headers", Type::object}};
    case ActionKind::emit: return {{"event_type", Type::string}};
    case ActionKind::notify: return {{"notification_id", Type::string}};
    case ActionKind::email: return {{"message_id", Type::string}};
    case ActionKind::start_workflow: return {{"run_id", Type::string}};
    case ActionKind::set: return {};  // the values it sets: filled in by infer_vars()
  }
  return {};
}

// Joins the known types written to one variable: the one known type, else any.
Type merge(const std::vector<Type>& written) {
  std::optional<Type> known;
  for (auto t : written) {
    if (t == Type::null) continue;
    if (t == Type::any || (known && *known != t)) return Type::any;
    known = t;
  }
  return known.value_or(Type::any);
}

// The type of each write. Variables can read variables, so the types are
// refined a few rounds, starting from "any".
std::vector<Type> infer_vars(const Draft& d, Env& env) {
  std::vector<Type> types(d.writes.size(), Type::any);
  for (const auto& w : d.writes) env.vars[w.var] = Type::any;
  for (int round = 0; round < 4; ++round) {
    const auto type_env = env.type_env();
    std::map<std::string, std::vector<Type>> written;
    for (std::size_t i = 0; i < d.writes.size(); ++i) {
      (void)check_problems(*d.writes[i].expr, type_env, &types[i]);  // problems are reported per site
      written[d.writes[i].var].push_back(types[i]);
    }
    Members next;
    for (const auto& [var, ts] : written) next[var] = merge(ts);
    if (next == env.vars) break;
    env.vars = std::move(next);
  }
  return types;
}

// A variable set to two different known types.
void conflicting_writes(Draft& d, const std::vector<Type>& types) {
  std::map<std::string, std::size_t> first;  // var -> first write with a known type
  for (std::size_t i = 0; i < d.writes.size(); ++i) {
    if (types[i] == Type::any || types[i] == Type::null) continue;
    auto [it, fresh] = first.emplace(d.writes[i].var, i);
    if (fresh || types[it->second] == types[i]) continue;
    const auto& a = d.writes[it->second];
    d.error(d.writes[i].pointer,
            fmt::format("variable '{}' is set to a {} here and to a {} at {}", d.writes[i].var, type_name(types[i]),
                        type_name(types[it->second]), a.pointer),
            "give it one type everywhere, or use two variables");
  }
}

// The fix for an unknown variable: a near name, or what is missing.
std::string unknown_fix(const Draft& d, const Env& env, const std::vector<std::string>& path) {
  if (path[0] == "steps" && path.size() >= 2) {
    auto it = d.def.index.find(path[1]);
    if (it != d.def.index.end()) {
      const auto& n = d.def.nodes[static_cast<std::size_t>(it->second)];
      if (n.type != NodeType::action && n.type != NodeType::wait)
        return fmt::format("'{}' is a {} node and has no output; steps.<id> reads action and wait nodes", n.id,
                           node_type_name(n.type));
    }
  }
  // The longest prefix that exists, and the name after it.
  std::size_t k = 1;
  while (k < path.size() && env.resolve({path.begin(), path.begin() + static_cast<std::ptrdiff_t>(k + 1)})) ++k;
  if (k >= path.size()) return {};
  const std::vector<std::string> prefix(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(k));
  auto type = env.resolve(prefix);
  if (type && !has_members(*type))
    return fmt::format("'{}' is a {} and has no fields", path_string(prefix), type_name(*type));
  if (auto near = nearest(path[k], env.names_below(prefix))) {
    auto fixed = prefix;
    fixed.push_back(*near);
    return fmt::format("did you mean '{}'?", path_string(fixed));
  }
  if (k == 1 && path[0] == "input")
    return fmt::format(R"(declare it in "input", e.g. "{}": "string")", path[1]);
  if (k == 1 && path[0] == "vars") return fmt::format("add a set action that writes '{}'", path[1]);
  if (k == 1) return "steps.<id> reads the output of an action or wait node";
  return fmt::format("'{}' has no field '{}'", path_string(prefix), path[k]);
}

}  // namespace

void check_types(Draft& d) {
  Env env;
  for (const auto& [name, type] : d.def.input) env.input[name] = type;
  for (std::size_t i = 0; i < d.def.nodes.size(); ++i) {
    const auto& n = d.def.nodes[i];
    if (!d.usable[i]) continue;
    if (n.type == NodeType::action) env.steps[n.id] = action_output(n.action.kind);
    if (n.type == NodeType::wait) env.steps[n.id] = {{"payload", Type::any}, {"event_type", Type::string}};
  }
  auto types = infer_vars(d, env);
  for (std::size_t i = 0; i < d.writes.size(); ++i) {
    const auto& n = d.def.nodes[static_cast<std::size_t>(d.writes[i].node)];
    if (!d.usable[static_cast<std::size_t>(d.writes[i].node)]) continue;
    auto& fields = env.steps[n.id];
    auto [it, fresh] = fields.emplace(d.writes[i].var, types[i]);
    if (!fresh && it->second != types[i]) it->second = Type::any;
  }
  conflicting_writes(d, types);

  const auto type_env = env.type_env();
  for (const auto& site : d.sites) {
    Type t = Type::any;
    auto problems = site.expr ? check_problems(*site.expr, type_env, &t) : check_problems(*site.tmpl, type_env);
    for (auto& p : problems)
      d.error(site.pointer, std::move(p.message), p.unknown ? unknown_fix(d, env, *p.unknown) : std::move(p.fix));
    if (site.want && t != Type::any && t != *site.want)
      d.error(site.pointer, fmt::format("{} gives a {}, not a {}", site.what, type_name(t), type_name(*site.want)),
              *site.want == Type::boolean ? "make it a comparison, e.g. \"input.seats > 5\""
                                          : "give a number of milliseconds since the epoch");
  }
}

// The email action's `to` and the notify action's `user` must give an
// address or a user id, or the step fails. A field read from the input that
// the trigger can never give is worth a warning at validation rather than a
// failed step at run time: a schedule gives no input, and an event of the
// engine's own (one with a schema) gives only its data's fields. A manual
// start or a customer's event may give any declared field.
void check_required_inputs(Draft& d, const SchemaRegistry& schemas) {
  const int t = d.def.trigger;
  if (t < 0 || !d.usable[static_cast<std::size_t>(t)]) return;
  const Trigger& trigger = d.def.nodes[static_cast<std::size_t>(t)].trigger;
  std::optional<std::vector<std::string>> given;  // nullopt: any declared field
  if (trigger.kind == "schedule") given.emplace();
  else if (trigger.kind == "event") given = schemas.event_fields(trigger.event_type);
  if (!given) return;
  for (std::size_t i = 0; i < d.def.nodes.size(); ++i) {
    const auto& n = d.def.nodes[i];
    if (!d.usable[i] || n.type != NodeType::action) continue;
    const bool email = n.action.kind == ActionKind::email;
    if (!email && n.action.kind != ActionKind::notify) continue;
    const ExprPtr& e = email ? n.action.to : n.action.user;
    if (!e) continue;
    const char* field = email ? "to" : "user";
    for (const auto& path : paths_of(*e)) {
      if (path.size() < 2 || path[0] != "input") continue;
      if (std::find(given->begin(), given->end(), path[1]) != given->end()) continue;
      const std::string source = trigger.kind == "schedule" ? std::string("a scheduled run has no input")
                                                            : fmt::format("{} has no field {}", trigger.event_type,
                                                                          path[1]);
      d.warning(fmt::format("/nodes/{}/action/{}", i, field),
                fmt::format("'{}' reads {}, but {}: the step always fails ({} is required)", field,
                            path_string(path), source, email ? "an email address" : "a user id"),
                "read it from a field the trigger gives, a step's output or a variable");
    }
  }
}

}  // namespace causeway::workflow::detail
