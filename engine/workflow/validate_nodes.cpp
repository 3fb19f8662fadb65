// The top-level fields and the nodes of a definition: what each node type
// and action kind takes and needs, names, and parsing every expression,
// template and cron schedule into the Draft (validation.h).
#include <fmt/format.h>

#include "engine/workflow/cron.h"
#include "engine/workflow/validation.h"

namespace causeway::workflow::detail {
namespace json = boost::json;

namespace {

using Fields = std::vector<std::string_view>;

// Names of input fields, variables and payload fields: what a path can read.
bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(s.front())) return false;
  for (char c : s)
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

// An HTTP header name (RFC 9110 token).
bool is_header_name(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

constexpr const char* kNameFix = "use letters, digits and _ (not a digit first), at most 64";

std::optional<NodeType> parse_node_type(std::string_view s) {
  for (auto t : {NodeType::trigger, NodeType::condition, NodeType::action, NodeType::delay, NodeType::wait,
                 NodeType::parallel, NodeType::join, NodeType::end})
    if (s == node_type_name(t)) return t;
  return std::nullopt;
}

std::optional<ActionKind> parse_action_kind(std::string_view s) {
  for (auto k : {ActionKind::http, ActionKind::set, ActionKind::emit, ActionKind::notify, ActionKind::email,
                 ActionKind::start_workflow})
    if (s == action_kind_name(k)) return k;
  return std::nullopt;
}

std::optional<std::int64_t> integer(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v->get_uint64());
  return std::nullopt;
}

std::optional<double> number(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

std::string text(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const json::object* object(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

// The fields each part takes, beyond the ones every node has (id, type,
// max_visits) and an action's or trigger's `kind`.
const Fields kNodeFields = {"trigger", "expression", "action", "retry", "timeout_ms",
                            "duration_ms", "until", "event_type", "correlation"};
const Fields kActionFields = {"method", "url", "headers", "body", "values", "event_type", "payload",
                              "user", "message", "to", "subject", "text", "workflow_id", "input"};
const Fields kTriggerFields = {"event_type", "filter", "cron"};

Fields node_takes(NodeType t) {
  switch (t) {
    case NodeType::trigger: return {"trigger"};
    case NodeType::condition: return {"expression"};
    case NodeType::action: return {"action", "retry", "timeout_ms"};
    case NodeType::delay: return {"duration_ms", "until"};
    case NodeType::wait: return {"event_type", "correlation", "timeout_ms"};
    default: return {};
  }
}
Fields node_needs(NodeType t) {
  switch (t) {
    case NodeType::trigger: return {"trigger"};
    case NodeType::condition: return {"expression"};
    case NodeType::action: return {"action"};
    case NodeType::wait: return {"event_type"};
    default: return {};  // a delay needs one of two: checked on its own
  }
}
Fields action_takes(ActionKind k) {
  switch (k) {
    case ActionKind::http: return {"method", "url", "headers", "body"};
    case ActionKind::set: return {"values"};
    case ActionKind::emit: return {"event_type", "payload"};
    case ActionKind::notify: return {"user", "message"};
    case ActionKind::email: return {"to", "subject", "text"};
    case ActionKind::start_workflow: return {"workflow_id", "input"};
  }
  return {};
}
Fields action_needs(ActionKind k) {
  switch (k) {
    case ActionKind::http: return {"method", "url"};
    case ActionKind::set: return {"values"};
    case ActionKind::emit: return {"event_type"};
    case ActionKind::notify: return {"user", "message"};
    case ActionKind::email: return {"to", "subject", "text"};
    case ActionKind::start_workflow: return {"workflow_id"};
  }
  return {};
}

// What to write for a missing field, for the fix text.
std::string example(std::string_view field) {
  static const std::pair<std::string_view, std::string_view> kExamples[] = {
      {"trigger", R"("trigger": {"kind": "manual"})"},
      {"expression", R"("expression": "input.seats > 5")"},
      {"action", R"("action": {"kind": "set", "values": {"done": "true"}})"},
      {"event_type", R"("event_type": "invoice.paid")"},
      {"method", R"("method": "POST")"},
      {"url", R"("url": "https://example.com/hook")"},
      {"values", R"("values": {"done": "true"})"},
      {"user", R"("user": "input.user_id")"},
      {"message", R"("message": "Hello {{ input.name }}")"},
      {"to", R"("to": "input.email")"},
      {"subject", R"("subject": "Your trial ends soon")"},
      {"text", R"("text": "Hello {{ input.name }}")"},
      {"workflow_id", R"("workflow_id": "<id of the workflow to start>")"},
      {"cron", R"("cron": "0 9 * * 1")"},
  };
  for (const auto& [name, text] : kExamples)
    if (name == field) return std::string(text);
  return fmt::format("\"{}\"", field);
}

bool contains(const Fields& fs, std::string_view f) { return std::find(fs.begin(), fs.end(), f) != fs.end(); }

class NodeReader {
 public:
  NodeReader(Draft& d, int i, const json::object& o)
      : d_(d), i_(i), o_(o), at_(fmt::format("/nodes/{}", i)), n_(d.def.nodes[static_cast<std::size_t>(i)]) {}

  void read() {
    n_.id = text(o_, "id");
    auto type = parse_node_type(text(o_, "type"));
    bool usable = !n_.id.empty() && type.has_value();
    if (!n_.id.empty()) {
      auto [it, fresh] = d_.def.index.emplace(n_.id, i_);
      if (!fresh) {
        d_.error(at_ + "/id", fmt::format("node id '{}' is also the id of node {}", n_.id, it->second),
                 "give every node its own id");
        usable = false;
      }
    }
    d_.usable[static_cast<std::size_t>(i_)] = usable;
    if (auto mv = integer(o_, "max_visits"); mv && *mv >= 1 && *mv <= 10000) n_.max_visits = static_cast<int>(*mv);
    if (!type) return;  // the schema reported it
    n_.type = *type;
    owner_ = fmt::format("{} node '{}'", node_type_name(*type), n_.id);
    if (*type == NodeType::trigger) count_trigger();
    fields(o_, at_, fmt::format("a {} node", node_type_name(*type)), kNodeFields, node_takes(*type), node_needs(*type));
    switch (*type) {
      case NodeType::trigger: trigger(); break;
      case NodeType::condition:
        n_.expression = expression(o_, "expression", at_, Type::boolean, fmt::format("condition '{}'", n_.id));
        break;
      case NodeType::action: action(); break;
      case NodeType::delay: delay(); break;
      case NodeType::wait:
        n_.event_type = text(o_, "event_type");
        n_.correlation = expression(o_, "correlation", at_, std::nullopt, "");
        n_.timeout_ms = integer(o_, "timeout_ms");
        break;
      default: break;
    }
  }

 private:
  Draft& d_;
  int i_;
  const json::object& o_;
  std::string at_;
  Node& n_;
  std::string owner_;  // "condition node 'big'"

  void count_trigger() {
    if (d_.triggers++ == 0) {
      d_.def.trigger = i_;
      return;
    }
    d_.error(at_ + "/type",
             fmt::format("'{}' is a second trigger node (the first is {})", n_.id, quoted_id(d_, d_.def.trigger)),
             "keep one trigger node; start other workflows with a start_workflow action");
  }

  // Reports the fields of `o` (among `known`: the schema reports the others)
  // that this part does not take, and the ones it needs but lacks.
  void fields(const json::object& o, const std::string& at, const std::string& what, const Fields& known,
              const Fields& takes, const Fields& needs) {
    for (const auto& kv : o)
      if (contains(known, kv.key()) && !contains(takes, kv.key()))
        d_.error(at + "/" + escape_token(kv.key()), fmt::format("\"{}\" is not a field of {}", kv.key(), what),
                 "remove it");
    for (auto f : needs)
      if (!o.contains(f))
        d_.error(at, fmt::format("{} needs \"{}\"", owner_, f), fmt::format("add {}", example(f)));
  }

  ExprPtr expression(const json::object& o, std::string_view key, const std::string& at, std::optional<Type> want,
                     std::string what) {
    auto* v = o.if_contains(key);
    if (!v || !v->is_string()) return nullptr;
    return parse_expression_at(v->get_string(), at + "/" + escape_token(key), want, std::move(what));
  }

  ExprPtr parse_expression_at(std::string_view source, std::string pointer, std::optional<Type> want,
                              std::string what) {
    auto e = parse_expression(source);
    if (!e) {
      d_.error(std::move(pointer), fmt::format("the expression does not parse: {}", e.error().message),
               "fix the syntax (grammar: \"Expressions and templates\" in docs/workflows.md)");
      return nullptr;
    }
    d_.sites.push_back({std::move(pointer), *e, std::nullopt, want, std::move(what)});
    return *e;
  }

  Template template_at(const json::object& o, std::string_view key, const std::string& at) {
    auto* v = o.if_contains(key);
    if (!v || !v->is_string()) return {};
    return parse_template_at(v->get_string(), at + "/" + escape_token(key));
  }

  Template parse_template_at(std::string_view source, std::string pointer) {
    auto t = parse_template(source);
    if (!t) {
      d_.error(std::move(pointer), fmt::format("the template does not parse: {}", t.error().message),
               "close every '{{' with '}}' and fix the expression between them");
      return {};
    }
    d_.sites.push_back({std::move(pointer), nullptr, *t, std::nullopt, ""});
    return std::move(t).value();
  }

  // An object of name -> expression (set values, emit payload, start input).
  std::vector<std::pair<std::string, ExprPtr>> expressions(const json::object& o, std::string_view key,
                                                           const std::string& at, bool writes_vars) {
    std::vector<std::pair<std::string, ExprPtr>> out;
    auto* m = object(o, key);
    if (!m) return out;
    const auto base = at + "/" + escape_token(key);
    for (const auto& kv : *m) {
      const std::string name(kv.key());
      const auto ptr = base + "/" + escape_token(name);
      if (!is_name(name)) {
        d_.error(ptr, fmt::format("'{}' is not a name an expression can read", name), kNameFix);
        continue;
      }
      if (!kv.value().is_string()) continue;  // the schema reported it
      auto e = parse_expression_at(kv.value().get_string(), ptr, std::nullopt, "");
      if (!e) continue;
      if (writes_vars) d_.writes.push_back({name, i_, ptr, e});
      out.emplace_back(name, std::move(e));
    }
    return out;
  }

  void trigger() {
    auto* t = object(o_, "trigger");
    if (!t) return;
    const auto at = at_ + "/trigger";
    auto& tr = n_.trigger;
    tr.kind = text(*t, "kind");
    Fields takes, needs;
    if (tr.kind == "event") takes = {"event_type", "filter"}, needs = {"event_type"};
    else if (tr.kind == "schedule") takes = needs = {"cron"};
    else if (tr.kind != "manual") return;  // the schema reported it
    fields(*t, at, fmt::format("a {} trigger", tr.kind), kTriggerFields, takes, needs);
    tr.event_type = text(*t, "event_type");
    tr.filter = expression(*t, "filter", at, Type::boolean, fmt::format("the filter of trigger '{}'", n_.id));
    tr.cron = text(*t, "cron");
    if (t->contains("cron") && t->at("cron").is_string())
      if (auto c = parse_cron(tr.cron); !c)
        d_.error(at + "/cron", fmt::format("the cron schedule does not parse: {}", c.error().message),
                 "write five fields: minute hour day-of-month month day-of-week, e.g. \"0 9 * * 1\" (09:00 UTC "
                 "on Mondays)");
  }

  void action() {
    auto* a = object(o_, "action");
    if (!a) return;
    auto kind = parse_action_kind(text(*a, "kind"));
    if (!kind) return;  // the schema reported it
    const auto at = at_ + "/action";
    auto& ac = n_.action;
    ac.kind = *kind;
    owner_ = fmt::format("the {} action of '{}'", action_kind_name(*kind), n_.id);
    fields(*a, at, fmt::format("a {} action", action_kind_name(*kind)), kActionFields, action_takes(*kind),
           action_needs(*kind));
    switch (*kind) {
      case ActionKind::http:
        ac.method = text(*a, "method");
        ac.url = template_at(*a, "url", at);
        if (auto* h = object(*a, "headers"))
          for (const auto& kv : *h) {
            const std::string name(kv.key());
            const auto ptr = at + "/headers/" + escape_token(name);
            if (!is_header_name(name)) {
              d_.error(ptr, fmt::format("'{}' is not an HTTP header name", name),
                       "use letters, digits and - (a token of RFC 9110)");
              continue;
            }
            if (kv.value().is_string()) ac.headers.emplace_back(name, parse_template_at(kv.value().get_string(), ptr));
          }
        ac.body = template_at(*a, "body", at);
        break;
      case ActionKind::set:
        ac.values = expressions(*a, "values", at, true);
        if (auto* v = object(*a, "values"); v && v->empty())
          d_.error(at + "/values", "a set action sets no variable", "add \"<name>\": \"<expression>\"");
        break;
      case ActionKind::emit:
        ac.event_type = text(*a, "event_type");
        ac.values = expressions(*a, "payload", at, false);
        break;
      case ActionKind::notify:
        ac.user = expression(*a, "user", at, std::nullopt, "");
        ac.message = template_at(*a, "message", at);
        break;
      case ActionKind::email:
        ac.to = expression(*a, "to", at, std::nullopt, "");
        ac.subject = template_at(*a, "subject", at);
        ac.text = template_at(*a, "text", at);
        break;
      case ActionKind::start_workflow:
        ac.workflow_id = text(*a, "workflow_id");
        ac.values = expressions(*a, "input", at, false);
        break;
    }
    n_.timeout_ms = integer(o_, "timeout_ms");
    if (auto* r = object(o_, "retry")) retry(*r);
  }

  void retry(const json::object& r) {
    auto& p = n_.retry;
    if (auto v = integer(r, "initial_interval_ms"); v && *v >= 1) p.initial_interval_ms = *v;
    if (auto v = number(r, "backoff_coefficient"); v && *v >= 1) p.backoff_coefficient = *v;
    p.maximum_interval_ms = 100 * p.initial_interval_ms;
    if (auto v = integer(r, "maximum_interval_ms"); v && *v >= 1) {
      p.maximum_interval_ms = *v;
      if (*v < p.initial_interval_ms)
        d_.warning(at_ + "/retry/maximum_interval_ms",
                   "maximum_interval_ms is below initial_interval_ms: every retry waits maximum_interval_ms",
                   "raise maximum_interval_ms or lower initial_interval_ms");
    }
    if (auto v = integer(r, "maximum_attempts"); v && *v >= 1 && *v <= 100) p.maximum_attempts = static_cast<int>(*v);
    if (auto v = number(r, "jitter"); v && *v >= 0 && *v <= 1) p.jitter = *v;
    if (auto* classes = r.if_contains("non_retryable"); classes && classes->is_array())
      for (const auto& c : classes->get_array())
        if (c.is_string()) p.non_retryable.emplace(c.get_string());
  }

  void delay() {
    const bool duration = o_.contains("duration_ms"), until = o_.contains("until");
    if (duration && until)
      d_.error(at_ + "/until", fmt::format("{} has both duration_ms and until", owner_), "keep one of them");
    if (!duration && !until)
      d_.error(at_, fmt::format("{} needs \"duration_ms\" or \"until\"", owner_),
               R"(add "duration_ms": 60000, or "until": an expression giving milliseconds since the epoch)");
    n_.duration_ms = integer(o_, "duration_ms");
    n_.until = expression(o_, "until", at_, Type::number, fmt::format("the until of delay '{}'", n_.id));
  }
};

void read_input(const json::object& input, Draft& d) {
  for (const auto& kv : input) {
    const std::string name(kv.key());
    if (!is_name(name)) {
      d.error("/input/" + escape_token(name), fmt::format("'{}' is not a name an expression can read", name),
              kNameFix);
      continue;
    }
    // A bad type is the schema's finding; `any` keeps it from also making
    // every use of the field an unknown variable.
    auto* t = kv.value().if_string();
    auto type = t ? parse_type(*t) : std::nullopt;
    d.def.input.emplace_back(name, type.value_or(Type::any));
  }
}

}  // namespace

void read_document(const json::object& doc, Draft& d) {
  if (auto f = integer(doc, "format")) d.def.format = static_cast<int>(*f);
  d.def.name = text(doc, "name");
  if (auto* input = object(doc, "input")) read_input(*input, d);
  if (auto t = integer(doc, "timeout_ms"); t && *t >= 1) d.def.timeout_ms = *t;
  if (auto t = integer(doc, "stuck_after_ms"); t && *t >= 1) d.def.stuck_after_ms = *t;
  auto* nodes = doc.if_contains("nodes");
  if (!nodes || !nodes->is_array()) return;  // the schema reported it
  const auto& list = nodes->get_array();
  d.def.nodes.resize(list.size());
  d.usable.assign(list.size(), false);
  for (std::size_t i = 0; i < list.size(); ++i)
    if (auto* o = list[i].if_object()) NodeReader(d, static_cast<int>(i), *o).read();
  if (d.triggers == 0 && !list.empty())
    d.error("/nodes", "there is no trigger node",
            R"(add a node {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}})");
}

}  // namespace causeway::workflow::detail
