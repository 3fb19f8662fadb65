#include "support/openapi_conformance.h"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>
#include <vector>

#include <doctest/doctest.h>

#include "api/openapi.h"
#include "support/http_client.h"

namespace causeway::testing {
namespace json = boost::json;

namespace {

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    auto end = path.find('/');
    out.push_back(path.substr(0, end));
    path = end == std::string_view::npos ? std::string_view() : path.substr(end);
  }
  return out;
}

std::string pointer_token(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// valijson 1.0 checks `format` on values of any type (a null date-time fails
// as "String should be a valid date-time"); JSON Schema applies it to strings
// only. Drops `format` where the schema's type admits more than strings.
void formats_for_strings_only(json::value& v) {
  if (auto* a = v.if_array()) {
    for (auto& e : *a) formats_for_strings_only(e);
    return;
  }
  auto* o = v.if_object();
  if (!o) return;
  if (const auto* type = o->if_contains("type"); type && type->is_array() && o->contains("format"))
    for (const auto& t : type->as_array())
      if (t != "string") {
        o->erase("format");
        break;
      }
  for (auto& kv : *o) formats_for_strings_only(kv.value());
}

// The document, its paths split into segments, and the compiled schemas.
class Document {
 public:
  Document() : doc_(json::parse(api::openapi_json())) {
    formats_for_strings_only(doc_);
    for (const auto& [path, item] : doc_.at("paths").as_object())
      paths_.push_back({std::string(path), segments(std::string_view(path.data(), path.size()))});
  }

  // The document's path for `path`: every literal segment equal, a template
  // segment matching any non-empty one; the most literal segments win.
  const std::string* match(std::string_view path) const {
    auto want = segments(path);
    const std::string* best = nullptr;
    int best_literals = -1;
    for (const auto& p : paths_) {
      if (p.segs.size() != want.size()) continue;
      int literals = 0;
      bool ok = true;
      for (std::size_t i = 0; ok && i < want.size(); ++i) {
        const auto& s = p.segs[i];
        if (s.size() > 1 && s.front() == '{' && s.back() == '}') ok = !want[i].empty();
        else if (s == want[i]) ++literals;
        else ok = false;
      }
      if (ok && literals > best_literals) best = &p.path, best_literals = literals;
    }
    return best;
  }

  const json::value& root() const { return doc_; }

  // Follows a {"$ref": "#/..."} object to what it names (one hop at a time).
  std::pair<const json::value*, std::string> deref(const json::value* v, std::string at) const {
    for (int hops = 0; hops < 8 && v && v->is_object(); ++hops) {
      const auto* ref = v->as_object().if_contains("$ref");
      if (!ref || !ref->is_string() || !ref->as_string().starts_with("#")) break;
      at = std::string(ref->as_string()).substr(1);
      boost::system::error_code ec;
      v = doc_.find_pointer(at, ec);
    }
    return {v, at};
  }

  // Problems of `body` against the schema at JSON pointer `at`.
  std::vector<std::string> validate(const std::string& at, const json::value& body) {
    std::lock_guard lock(mu_);
    auto& schema = schemas_[at];
    if (!schema) {
      json::value root = doc_;
      root.as_object()["$ref"] = "#" + at;
      schema = std::make_unique<valijson::Schema>();
      valijson::SchemaParser parser;
      valijson::adapters::BoostJsonAdapter adapter(root);
      parser.populateSchema(adapter, *schema);
    }
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::BoostJsonAdapter target(body);
    std::vector<std::string> out;
    if (validator.validate(*schema, target, &results)) return out;
    valijson::ValidationResults::Error e;
    while (results.popError(e) && out.size() < 6) {
      std::string where;
      for (const auto& c : e.context) where += c;
      out.push_back(fmt::format("{}: {}", where, e.description));
    }
    return out;
  }

 private:
  struct Path {
    std::string path;
    std::vector<std::string_view> segs;  // views into `path`
  };
  json::value doc_;
  std::vector<Path> paths_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<valijson::Schema>> schemas_;
};

Document& document() {
  static Document d;
  return d;
}

// "Text/Plain; charset=utf-8" -> "text/plain".
std::string media_type(std::string_view content_type) {
  std::string media = lower(content_type.substr(0, content_type.find(';')));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  return media;
}

bool is_json(std::string_view media) { return media == "application/json" || media.ends_with("+json"); }

// The key of the response object for `status`: exact, then "4XX"-style, then
// default; empty when the operation lists none of them.
std::string response_key(const json::object& responses, int status) {
  for (auto key : {std::to_string(status), fmt::format("{}XX", status / 100), std::string("default")})
    if (responses.contains(key)) return key;
  return {};
}

}  // namespace

std::string openapi_disagreement(const std::string& method, const std::string& target, int status,
                                 const std::string& content_type, const std::string& body) {
  auto& doc = document();
  std::string_view path(target);
  path = path.substr(0, path.find('?'));
  const std::string* template_path = doc.match(path);
  if (!template_path) return {};
  const std::string who = fmt::format("{} {} ({} {})", method, target, method, *template_path);
  const auto& item = doc.root().at("paths").at(*template_path).as_object();
  const auto* op = item.if_contains(lower(method));
  if (!op) return status == 405 ? std::string() : fmt::format("{}: no such operation, answered {} (not 405)", who, status);
  std::string at = "/paths/" + pointer_token(*template_path) + "/" + lower(method) + "/responses";
  const auto* responses = op->as_object().if_contains("responses");
  const std::string status_key = responses ? response_key(responses->as_object(), status) : std::string();
  if (status_key.empty()) return fmt::format("{}: answered {}, a status the document does not list", who, status);
  const json::value* response = &responses->as_object().at(status_key);
  at += "/" + status_key;
  auto [resolved, resolved_at] = doc.deref(response, at);
  if (!resolved || !resolved->is_object()) return fmt::format("{}: response {} does not resolve", who, resolved_at);
  const auto* content = resolved->as_object().if_contains("content");
  if (body.empty()) return {};
  if (!content) return fmt::format("{}: answered {} with a body, where the document lists none", who, status);
  const std::string media = media_type(content_type);
  const json::value* entry = nullptr;
  std::string key;
  for (const auto& [k, v] : content->as_object()) {
    const std::string listed = media_type(std::string_view(k.data(), k.size()));
    const bool range = listed == "*/*" || (listed.ends_with("/*") && media.starts_with(listed.substr(0, listed.size() - 1)));
    if (listed == media || range) {
      entry = &v;
      key = std::string(k);
      break;
    }
  }
  if (!entry) return fmt::format("{}: answered {} as {}, not a content type the document lists", who, status, media);
  if (!is_json(media)) return {};
  const auto* schema = entry->as_object().if_contains("schema");
  if (!schema) return {};
  boost::system::error_code ec;
  auto parsed = json::parse(body, ec);
  if (ec) return fmt::format("{}: answered {} as {} with a body that is not JSON", who, status, media);
  auto problems = doc.validate(resolved_at + "/content/" + pointer_token(key) + "/schema", parsed);
  std::string out;
  for (const auto& p : problems) out += fmt::format("{}: {} body {}\n", who, status, p);
  return out;
}

namespace {
// Every test executable checks every response it gets from Causeway.
const bool kObserving = [] {
  response_observer() = [](const std::string& method, const std::string& target, const HttpResult& r) {
    auto why = openapi_disagreement(method, target, r.status, r.header("content-type"), r.body);
    if (!why.empty()) FAIL_CHECK(why);
  };
  return true;
}();
}  // namespace

}  // namespace causeway::testing
