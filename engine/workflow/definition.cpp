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

std::string with_article(std::string_view type) {
  bool vowel = !type.empty() && std::string_view("aeiou").find(type.front()) != std::string_view::npos;
  return fmt::format("{} {}", vowel ? "an" : "a", type);
}

// A schema finding as a Problem: plain words where the schema says more
// than valijson's message (the allowed values, the expected type).
Problem from_schema(const FieldError& e) {
  const auto name = e.pointer.substr(e.pointer.rfind('/') + 1);
  if (e.detail.starts_with("unknown field")) {
    const auto mean = e.detail.find("did you mean");
    return {e.pointer, fmt::format("'{}' is not a field here", name),
            mean == std::string::npos ? "remove it (docs/workflows.md lists the fields of each part)"
                                      : e.detail.substr(mean)};
  }
  if (e.detail.ends_with(" is required"))  // the registry points at the missing field
    return {e.pointer, fmt::format("\"{}\" is missing", name), fmt::format("add \"{}\"", name)};
  const auto* sub = subschema_at(workflow_schema(), e.pointer);
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
    detail::check_required_inputs(d, schemas);
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

std::string quoted_id(const Draft& d, int i) { return fmt::format("'{}'", d.def.nodes[static_cast<std::size_t>(i)].id); }

}  // namespace detail

}  // namespace causeway::workflow
