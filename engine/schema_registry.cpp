#include "engine/schema_registry.h"

#include <boost/json/parse.hpp>
#include <cctype>
#include <fmt/format.h>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "engine/nearest.h"

namespace causeway {
namespace json = boost::json;

struct SchemaRegistry::Compiled {
  json::value doc;  // kept for the unknown-field walk and annotations
  valijson::Schema schema;
  std::vector<std::string> personal;
  std::vector<std::string> secret;
};

SchemaRegistry::~SchemaRegistry() = default;

std::string escape_pointer_token(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

namespace {

// valijson reports a path like {"<root>", "[email]", "[0]"}; make it a pointer.
std::string pointer_from_context(const std::vector<std::string>& ctx) {
  std::string p;
  for (const auto& part : ctx) {
    if (part == "<root>") continue;
    std::string_view s = part;
    if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    p += "/" + escape_pointer_token(s);
  }
  return p;
}

// Follows a local "$ref" ("#/definitions/node") to the schema it names.
const json::value& resolve_ref(const json::value& root, const json::value& schema) {
  const json::value* at = &schema;
  for (int hops = 0; hops < 8; ++hops) {  // a $ref may name another $ref
    auto* s = at->if_object();
    auto* ref = s ? s->if_contains("$ref") : nullptr;
    if (!ref || !ref->is_string() || !ref->as_string().starts_with("#")) return *at;
    boost::system::error_code ec;
    auto* target = root.find_pointer(std::string_view(ref->as_string()).substr(1), ec);
    if (!target) return *at;
    at = target;
  }
  return *at;
}

// Reports properties that the schema does not declare where it forbids extras,
// each with its own pointer (valijson names only the parent object). Follows
// local $refs and the items of arrays.
void unknown_fields(const json::value& root, const json::value& schema, const json::value& doc,
                    const std::string& at, std::vector<FieldError>& out) {
  auto* s = resolve_ref(root, schema).if_object();
  if (!s) return;
  if (auto* a = doc.if_array()) {
    if (auto* items = s->if_contains("items"); items && items->is_object())
      for (std::size_t i = 0; i < a->size(); ++i)
        unknown_fields(root, *items, (*a)[i], at + "/" + std::to_string(i), out);
    return;
  }
  auto* o = doc.if_object();
  if (!o) return;
  auto* props = s->if_contains("properties");
  auto* extra = s->if_contains("additionalProperties");
  for (const auto& kv : *o) {
    std::string ptr = at + "/" + escape_pointer_token(kv.key());
    const json::value* sub = props && props->is_object() ? props->as_object().if_contains(kv.key()) : nullptr;
    if (sub) {
      unknown_fields(root, *sub, kv.value(), ptr, out);
    } else if (extra && extra->is_bool() && !extra->as_bool()) {
      std::vector<std::string> known;
      if (props && props->is_object())
        for (const auto& p : props->as_object()) known.emplace_back(p.key());
      auto close = nearest(kv.key(), known);
      out.push_back({ptr, close ? fmt::format("unknown field; did you mean '{}'?", *close) : "unknown field"});
    }
  }
}

// The patterns of schemas/ in words, for messages; others are quoted.
std::string pattern_in_words(std::string_view pattern) {
  static const std::pair<std::string_view, std::string_view> kWords[] = {
      {"^user-[0-9a-f]{32}$", "a user id: user- and 32 lowercase hex digits"},
      {"^org-[0-9a-f]{32}$", "an organization id: org- and 32 lowercase hex digits"},
      {"^workflow-[0-9a-f]{32}$", "a workflow id: workflow- and 32 lowercase hex digits"},
      {"^[0-9a-f]{32}$", "32 lowercase hex digits"},
      {"^[0-9a-f]{16}$", "16 lowercase hex digits"},
      {"^[0-9]{6}$", "6 digits"},
      {"^[a-z][a-z0-9_]{0,31}$", "a lowercase letter, then up to 31 lowercase letters, digits or _"},
      {"^[a-z][a-z0-9_]{0,63}$", "a lowercase letter, then up to 63 lowercase letters, digits or _"},
      {"^[a-z][a-z0-9_.-]{0,63}$", "a lowercase letter, then up to 63 lowercase letters, digits, _, . or -"},
      {"^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$",
       "dotted lowercase names, at least two (such as invoice.created)"},
      {"^[^\\u0000-\\u001f\\u007f]+$", "text without control characters"},
      {"^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", "an email address (name@example.com)"},
      {"^[a-z0-9][a-z0-9-]*[a-z0-9]$",
       "lowercase letters, digits and -, starting and ending with a letter or digit (at least 2)"},
      {"^[a-z]{3}$", "3 lowercase letters"},
      {"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "a date, YYYY-MM-DD"},
  };
  for (const auto& [p, words] : kWords)
    if (p == pattern) return std::string(words);
  return fmt::format("text matching the pattern {}", pattern);
}

// valijson's message made specific: a missing property points at itself, a
// pattern is said in words.
FieldError readable(const json::value& root, FieldError e) {
  constexpr std::string_view kMissing = "Missing required property '";
  if (e.detail.starts_with(kMissing) && e.detail.ends_with("'.")) {
    const std::string name = e.detail.substr(kMissing.size(), e.detail.size() - kMissing.size() - 2);
    e.pointer += "/" + escape_pointer_token(name);
    e.detail = fmt::format("{} is required", name);
  } else if (e.detail.starts_with("Failed to match regex specified by 'pattern'")) {
    const json::object* s = subschema_at(root, e.pointer);
    const auto* p = s ? s->if_contains("pattern") : nullptr;
    if (p && p->is_string()) e.detail = "must be " + pattern_in_words(p->as_string());
  }
  return e;
}

Result<std::unique_ptr<SchemaRegistry::Compiled>> compile(const EmbeddedSchema& e) {
  auto c = std::make_unique<SchemaRegistry::Compiled>();
  boost::system::error_code ec;
  c->doc = json::parse(e.text, ec);
  if (ec) return Error::corruption(fmt::format("schema {} is not JSON", e.path));
  try {
    valijson::SchemaParser parser;
    valijson::adapters::BoostJsonAdapter adapter(c->doc);
    parser.populateSchema(adapter, c->schema);
  } catch (const std::exception& ex) {
    return Error::corruption(fmt::format("schema {} does not compile: {}", e.path, ex.what()));
  }
  if (auto* props = c->doc.as_object().if_contains("properties"); props && props->is_object())
    for (const auto& kv : props->as_object())
      if (auto* o = kv.value().if_object())
        if (auto* p = o->if_contains("x-personal"); p && p->is_bool() && p->as_bool()) {
          c->personal.emplace_back(kv.key());
          if (auto* x = o->if_contains("x-secret"); x && x->is_bool() && x->as_bool()) c->secret.emplace_back(kv.key());
        }
  return c;
}

}  // namespace

Result<std::shared_ptr<SchemaRegistry>> SchemaRegistry::from_embedded() {
  std::shared_ptr<SchemaRegistry> reg(new SchemaRegistry());
  for (const auto& e : embedded_schemas()) {
    std::string_view path = e.path;
    // Data embedded alongside the schemas (the workflow templates, the default
    // plans) is not a schema.
    if (path.starts_with("workflows/templates/") || path == "billing/plans.json") continue;
    auto compiled = compile(e);
    if (!compiled) return std::move(compiled).error();
    auto name = path.substr(path.find('/') + 1);
    name = name.substr(0, name.size() - 5);  // ".json"
    if (path.starts_with("commands/")) reg->commands_.emplace(std::string(name), std::move(compiled).value());
    else if (path.starts_with("events/")) reg->events_.emplace(std::string(name), std::move(compiled).value());
    else reg->documents_.emplace(std::string(path), std::move(compiled).value());
  }
  return reg;
}

bool SchemaRegistry::has_command(const std::string& name) const { return commands_.contains(name); }

std::vector<FieldError> SchemaRegistry::validate(const Compiled& c, const json::value& doc) const {
  std::vector<FieldError> out;
  unknown_fields(c.doc, c.doc, doc, "", out);
  // The validator caches compiled regexes and is not thread-safe: one per thread.
  thread_local valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::BoostJsonAdapter adapter(doc);
  if (!validator.validate(c.schema, adapter, &results)) {
    valijson::ValidationResults::Error err;
    while (results.popError(err)) {
      // Unknown fields were reported above with a precise pointer; valijson's
      // whole-object failures for them add nothing.
      if (err.description.find("could not be validated using 'properties'") != std::string::npos) continue;
      if (err.description.find("Failed to validate against schema associated with property") != std::string::npos)
        continue;
      out.push_back(readable(c.doc, {pointer_from_context(err.context), err.description}));
    }
  }
  // Keep one problem per pointer, most specific first (deepest pointers sort last).
  std::stable_sort(out.begin(), out.end(),
                   [](const FieldError& a, const FieldError& b) { return a.pointer.size() > b.pointer.size(); });
  return out;
}

std::vector<FieldError> SchemaRegistry::validate_command(const std::string& name, const json::value& body) const {
  auto it = commands_.find(name);
  if (it == commands_.end()) return {{"", fmt::format("no schema for command {}", name)}};
  return validate(*it->second, body);
}

std::vector<FieldError> SchemaRegistry::validate_event(const std::string& type, std::uint32_t version,
                                                       const json::value& data) const {
  auto it = events_.find(fmt::format("{}.v{}", type, version));
  if (it == events_.end()) return {{"", fmt::format("no schema for event {} v{}", type, version)}};
  return validate(*it->second, data);
}

const std::vector<std::string>& SchemaRegistry::personal_fields(const std::string& type, std::uint32_t version) const {
  static const std::vector<std::string> none;
  auto it = events_.find(fmt::format("{}.v{}", type, version));
  return it == events_.end() ? none : it->second->personal;
}

const std::vector<std::string>& SchemaRegistry::secret_fields(const std::string& type, std::uint32_t version) const {
  static const std::vector<std::string> none;
  auto it = events_.find(fmt::format("{}.v{}", type, version));
  return it == events_.end() ? none : it->second->secret;
}

void SchemaRegistry::redact_secrets(const std::string& type, std::uint32_t version, boost::json::value& data) const {
  if (!data.is_object()) return;
  for (const auto& f : secret_fields(type, version))
    if (auto* v = data.as_object().if_contains(f)) *v = "[redacted]";
}

std::vector<FieldError> SchemaRegistry::validate_document(const std::string& path, const json::value& doc) const {
  auto it = documents_.find(path);
  if (it == documents_.end()) return {{"", fmt::format("no schema {}", path)}};
  auto out = validate(*it->second, doc);
  std::erase_if(out, [](const FieldError& e) {
    return e.detail.starts_with("Failed to validate item #") ||
           e.detail.starts_with("Failed to validate against a conditional schema") ||
           e.detail.starts_with("Failed to validate against additional properties schema") ||
           e.detail.starts_with("Failed to validate against child schema");
  });
  return out;
}

const json::object* subschema_at(const json::value& root, std::string_view pointer) {
  const json::value* s = &resolve_ref(root, root);
  while (!pointer.empty()) {
    pointer.remove_prefix(1);  // '/'
    const auto slash = pointer.find('/');
    const std::string_view raw = pointer.substr(0, slash);
    std::string token;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size()) token.push_back(raw[++i] == '1' ? '/' : '~');
      else token.push_back(raw[i]);
    }
    pointer = slash == std::string_view::npos ? std::string_view() : pointer.substr(slash);
    auto* o = s->if_object();
    if (!o) return nullptr;
    auto* props = o->if_contains("properties");
    const json::value* next = props && props->is_object() ? props->get_object().if_contains(token) : nullptr;
    const bool index = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
    if (!next && index) next = o->if_contains("items");
    if (!next) next = o->if_contains("additionalProperties");
    if (!next) return nullptr;
    s = &resolve_ref(root, *next);
  }
  return s->if_object();
}

std::optional<std::vector<std::string>> SchemaRegistry::event_fields(const std::string& type) const {
  const Compiled* newest = nullptr;
  for (std::uint32_t v = 1; v < 100; ++v) {
    auto it = events_.find(fmt::format("{}.v{}", type, v));
    if (it == events_.end()) break;
    newest = it->second.get();
  }
  if (!newest) return std::nullopt;
  std::vector<std::string> out;
  if (auto* props = newest->doc.as_object().if_contains("properties"); props && props->is_object())
    for (const auto& kv : props->as_object()) out.emplace_back(kv.key());
  return out;
}

bool SchemaRegistry::has_event_category(const std::string& category) const {
  const std::string prefix = category + ".";
  auto it = events_.lower_bound(prefix);
  return it != events_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace causeway
