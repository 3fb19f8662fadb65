#include "engine/workflow/definition.h"

#include "engine/workflow/json_text.h"
#include "events/codec.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <sodium.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "engine/workflow/validation.h"

namespace causeway::workflow {
namespace json = boost::json;

const char* node_type_name(NodeType t) {
  switch (t) {
    case NodeType::trigger: return "trigger";
    case NodeType::condition: return "condition";
    case NodeType::action: return "action";
    case NodeType::delay: return "delay";
    case NodeType::wait: return "wait";
    case NodeType::parallel: return "parallel";
    case NodeType::join: return "join";
    case NodeType::end: return "end";
  }
  return "end";
}

const char* action_kind_name(ActionKind k) {
  switch (k) {
    case ActionKind::http: return "http";
    case ActionKind::set: return "set";
    case ActionKind::emit: return "emit";
    case ActionKind::notify: return "notify";
    case ActionKind::email: return "email";
    case ActionKind::start_workflow: return "start_workflow";
  }
  return "http";
}

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

json::array problems_json(const std::vector<Problem>& ps) {
  json::array out;
  for (const auto& p : ps) out.push_back(json::object{{"pointer", p.pointer}, {"message", p.message}, {"fix", p.fix}});
  return out;
}

// The workflow schema, parsed once, to name the allowed values in fixes.
const json::value& workflow_schema() {
  static const json::value schema = [] {
    for (const auto& e : embedded_schemas())
      if (std::string_view(e.path) == "workflows/definition.json") {
        boost::system::error_code ec;
        auto v = json::parse(e.text, ec);
        if (!ec) return v;
      }
    return json::value();
  }();
  return schema;
}

const json::value* follow_ref(const json::value* s) {
  for (int hops = 0; s && hops < 8; ++hops) {
    auto* o = s->if_object();
    auto* ref = o ? o->if_contains("$ref") : nullptr;
    if (!ref || !ref->is_string() || !ref->get_string().starts_with("#")) return s;
    boost::system::error_code ec;
    s = workflow_schema().find_pointer(std::string_view(ref->get_string()).substr(1), ec);
  }
  return s;
}

// The subschema that governs the value at `pointer`, or null.
const json::object* schema_at(std::string_view pointer) {
  const json::value* s = follow_ref(&workflow_schema());
  while (s && !pointer.empty()) {
    pointer.remove_prefix(1);  // '/'
    auto slash = pointer.find('/');
    std::string token;
    for (std::size_t i = 0; i < pointer.substr(0, slash).size(); ++i) {
      if (pointer[i] == '~' && i + 1 < pointer.size()) token.push_back(pointer[++i] == '1' ? '/' : '~');
      else token.push_back(pointer[i]);
    }
    pointer = slash == std::string_view::npos ? std::string_view() : pointer.substr(slash);
    auto* o = s->if_object();
    if (!o) return nullptr;
    auto* props = o->if_contains("properties");
    const json::value* next = props && props->is_object() ? props->get_object().if_contains(token) : nullptr;
    const bool index = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
    if (!next && index) next = o->if_contains("items");
    if (!next) next = o->if_contains("additionalProperties");
    s = follow_ref(next);
  }
  return s ? s->if_object() : nullptr;
}

std::string with_article(std::string_view type) {
  bool vowel = !type.empty() && std::string_view("aeiou").find(type.front()) != std::string_view::npos;
  return fmt::format("{} {}", vowel ? "an" : "a", type);
}

// A schema finding as a Problem: plain words where the schema says more
// than valijson's message (the allowed values, the expected type).
Problem from_schema(const FieldError& e) {
  if (e.detail == "unknown field") {
    auto name = e.pointer.substr(e.pointer.rfind('/') + 1);
    return {e.pointer, fmt::format("'{}' is not a field here", name),
            "remove it (docs/workflows.md lists the fields of each part)"};
  }
  const std::string missing = "Missing required property '";
  if (e.detail.starts_with(missing)) {
    auto name = e.detail.substr(missing.size(), e.detail.find('\'', missing.size()) - missing.size());
    return {e.pointer, fmt::format("\"{}\" is missing", name), fmt::format("add \"{}\"", name)};
  }
  const auto* sub = schema_at(e.pointer);
  if (sub && e.detail.starts_with("Failed to match against any enum values")) {
    if (auto* values = sub->if_contains("enum"); values && values->is_array()) {
      std::string list;
      for (const auto& v : values->get_array()) list += (list.empty() ? "" : ", ") + json::serialize(v);
      return {e.pointer, "not one of the allowed values", fmt::format("use one of {}", list)};
    }
  }
  if (sub && e.detail.starts_with("Value type not permitted")) {
    if (auto* type = sub->if_contains("type"); type && type->is_string())
      return {e.pointer, fmt::format("must be {}", with_article(type->get_string())),
              fmt::format("use {}", with_article(type->get_string()))};
  }
  if (sub && e.detail.starts_with("Failed to match expected value set by 'const'")) {
    if (auto* c = sub->if_contains("const"))
      return {e.pointer, fmt::format("must be {}", json::serialize(*c)), fmt::format("set it to {}", json::serialize(*c))};
  }
  return {e.pointer, e.detail, "see \"The definition format\" in docs/workflows.md"};
}


detail::Draft analyse(const json::value& definition, const SchemaRegistry& schemas) {
  detail::Draft d;
  try {
    for (const auto& e : schemas.validate_document("workflows/definition.json", definition)) {
      auto p = from_schema(e);
      d.error(std::move(p.pointer), std::move(p.message), std::move(p.fix));
    }
    auto* doc = definition.if_object();
    if (!doc) {
      if (d.report.errors.empty())
        d.error("", "a definition is a JSON object", "send an object with format, name, nodes and edges");
      return d;
    }
    detail::read_document(*doc, d);
    detail::read_edges(*doc, d);
    detail::check_graph(d);
    detail::check_types(d);
  } catch (const std::exception& ex) {  // boost::json allocation failures
    d.error("", fmt::format("validation failed: {}", ex.what()), "try again with a smaller definition");
  }
  return d;
}

}  // namespace

std::int64_t RetryPolicy::delay_ms(int failed_attempt, std::uint64_t seed) const {
  const int k = std::max(failed_attempt, 1);
  double delay = static_cast<double>(initial_interval_ms) * std::pow(backoff_coefficient, k - 1);
  const auto maximum = static_cast<double>(maximum_interval_ms);
  if (!(delay < maximum)) delay = maximum;  // also when pow() overflowed
  if (jitter > 0) {
    const double unit = static_cast<double>(splitmix64(seed) >> 11) * 0x1.0p-53;  // [0, 1)
    delay *= 1.0 - jitter + 2.0 * jitter * unit;
  }
  return std::llround(std::max(delay, 0.0));
}

json::object Report::to_json() const {
  return json::object{{"valid", ok()}, {"errors", problems_json(errors)}, {"warnings", problems_json(warnings)}};
}

Report Report::prefixed(const std::string& prefix) const {
  Report r = *this;
  for (auto* list : {&r.errors, &r.warnings})
    for (auto& p : *list) p.pointer = prefix + p.pointer;
  return r;
}

Report validate(const json::value& definition, const SchemaRegistry& schemas) {
  return analyse(definition, schemas).report;
}

Result<std::shared_ptr<const Definition>> compile(const json::value& definition, const SchemaRegistry& schemas,
                                                  Report* report) {
  auto d = analyse(definition, schemas);
  if (report) *report = d.report;
  if (!d.report.ok()) {
    const auto& first = d.report.errors.front();
    return Error::invalid(first.message, first.pointer);
  }
  return std::shared_ptr<const Definition>(std::make_shared<Definition>(std::move(d.def)));
}

std::string content_hash(const json::value& definition) {
  std::string text;
  write_json(definition, text, kCanonicalJson);
  Hash digest{};
  static_assert(sizeof digest == crypto_hash_sha256_BYTES);
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return hex(digest);
}

namespace detail {

void Draft::error(std::string pointer, std::string message, std::string fix) {
  for (const auto& p : report.errors)
    if (p.pointer == pointer && p.message == message) return;
  report.errors.push_back({std::move(pointer), std::move(message), std::move(fix)});
}

void Draft::warning(std::string pointer, std::string message, std::string fix) {
  report.warnings.push_back({std::move(pointer), std::move(message), std::move(fix)});
}

std::string escape_token(std::string_view s) { return escape_pointer_token(s); }

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions and
  // swaps of neighbours, each one edit.
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> t(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) t[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) t[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i)
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      t[i][j] = std::min({t[i - 1][j] + 1, t[i][j - 1] + 1, t[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) t[i][j] = std::min(t[i][j], t[i - 2][j - 2] + 1);
    }
  return t[n][m];
}

std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  if (word.size() > 100) return best;  // no typo of a name that long (and the table stays small)
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    if (c == word) continue;
    auto dist = edit_distance(word, c);
    if (dist < best_distance) {
      best_distance = dist;
      best = c;
    }
  }
  return best;
}

std::string quoted_id(const Draft& d, int i) { return fmt::format("'{}'", d.def.nodes[static_cast<std::size_t>(i)].id); }

}  // namespace detail

}  // namespace causeway::workflow
