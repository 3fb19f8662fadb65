#include "api/account_support.h"

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>

#include <fmt/format.h>

#include "engine/aggregates/user.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;

std::string peer_of(const Request& req) {
  auto it = req.find("Causeway-Peer");
  return it == req.end() ? std::string() : std::string(it->value());
}

std::string user_agent_of(const Request& req) {
  auto it = req.find(http::field::user_agent);
  std::string ua = it == req.end() ? std::string() : std::string(it->value());
  if (ua.size() > 512) ua.resize(512);
  return ua;
}

Response too_many(const std::string& why, std::int64_t wait_us, const std::string& instance,
                  const std::string& request_id, unsigned ver) {
  auto res = problem(429, why, "", instance, request_id, ver);
  res.set(http::field::retry_after, std::to_string(std::max<std::int64_t>(1, (wait_us + 999'999) / 1'000'000)));
  return res;
}

const std::string& dummy_hash(const PasswordParams& p) {
  static const std::string h = hash_password("no such user: timing equalizer", p).value();
  return h;
}

Result<Credentials> credentials_of(EventLog& log, KeyVault& vault, const std::string& user_id) {
  auto events = log.read_stream(user::stream_of(user_id), 1, 1'000'000);
  if (!events) return std::move(events).error();
  Credentials out;
  for (const auto& e : *events) {
    if (e.type != "user.signed_up" && e.type != "user.password_changed") continue;
    boost::system::error_code ec;
    auto data = json::parse(e.data, ec);
    if (ec || !data.is_object()) return Error::corruption("a user event payload is not a JSON object");
    if (auto st = vault.open_all(data); !st) return std::move(st).error();
    auto& o = data.as_object();
    if (auto* h = o.if_contains("password_hash"); h && h->is_string() && h->as_string().starts_with("$argon2id$"))
      out.hashes.emplace_back(h->as_string());
    if (auto* n = o.if_contains("display_name"); n && n->is_string()) out.display_name = std::string(n->as_string());
    if (auto* m = o.if_contains("email"); m && m->is_string()) out.email = std::string(m->as_string());
  }
  std::reverse(out.hashes.begin(), out.hashes.end());
  return out;
}

Result<Fields> string_fields(const json::value& body, std::span<const char* const> fields, bool factor) {
  if (!body.is_object()) return Error::invalid("the body must be a JSON object", "");
  Fields out;
  for (const auto& [k, v] : body.as_object()) {
    const std::string key(k);
    const bool is_factor = factor && (key == "otp" || key == "backup_code");
    bool known = is_factor;
    for (const char* a : fields) known = known || key == a;
    if (!known) return Error::invalid(fmt::format("unknown field {}", key), "/" + key);
    if (!v.is_string() || v.as_string().empty() || v.as_string().size() > 1024)
      return Error::invalid(fmt::format("{} must be a string of 1 to 1024 characters", key), "/" + key);
    if (is_factor) out.factor[key] = v;
    else out.text[key] = std::string(v.as_string());
  }
  if (out.factor.size() > 1) return Error::invalid("give otp or backup_code, not both", "/backup_code");
  for (const char* r : fields)
    if (!out.text.contains(r)) return Error::invalid(fmt::format("{} is required", r), fmt::format("/{}", r));
  return out;
}

}  // namespace causeway::api
