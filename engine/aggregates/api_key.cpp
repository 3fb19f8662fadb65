#include "engine/aggregates/api_key.h"

#include "engine/aggregates/organization.h"

namespace causeway::api_key {

Result<Decision> decide(const State& s, const Create& c, std::int64_t) {
  if (s.exists) return Error::conflict("the API key already exists");
  if (!c.org_exists) return Error::not_found("no such organization");
  if (!organization::valid_role(c.role)) return Error::invalid("unknown role", "/role");
  Decision d;
  DraftEvent e;
  e.type = "api_key.created";
  e.data["key_id"] = c.key_id;
  e.data["org_id"] = c.org_id;
  e.data["name"] = c.name;
  e.data["role"] = c.role;
  e.data["secret_hash"] = c.secret_hash;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_revoke(const State& s, const std::string& key_id, std::int64_t) {
  if (!s.exists) return Error::not_found("no such API key");
  Decision d;
  if (s.revoked) return d;  // already revoked: nothing changes
  DraftEvent e;
  e.type = "api_key.revoked";
  e.data["key_id"] = key_id;
  e.data["org_id"] = s.org_id;
  d.events.push_back(std::move(e));
  return d;
}

void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t) {
  auto str = [&](const char* k) {
    auto* v = data.if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (type == "api_key.created") {
    s.exists = true;
    s.org_id = str("org_id");
    s.role = str("role");
    s.secret_hash = str("secret_hash");
  } else if (type == "api_key.revoked") {
    s.revoked = true;
  }
}

}  // namespace causeway::api_key
