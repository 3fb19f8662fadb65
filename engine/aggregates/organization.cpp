#include "engine/aggregates/organization.h"

#include <boost/json/value_to.hpp>

namespace causeway::organization {
namespace json = boost::json;

Result<Decision> decide(const State& s, const Create& c, std::int64_t) {
  if (s.exists) return Error::conflict("the organization already exists");
  if (!c.owner_exists) return Error::invalid("the owner is not a known user", "/owner_user_id");
  Decision d;
  DraftEvent e;
  e.type = "organization.created";
  e.data["org_id"] = c.org_id;
  e.data["slug"] = c.slug;
  e.data["name"] = c.name;
  e.data["owner_user_id"] = c.owner_user_id;
  e.subjects = {c.owner_user_id};
  d.events.push_back(std::move(e));
  d.reservations.push_back({"slug:" + c.slug, c.org_id, "/slug"});
  return d;
}

Result<Decision> decide(const State& s, const Rename& c, const std::string& org_id, std::int64_t) {
  if (!s.exists) return Error::not_found("no such organization");
  Decision d;
  if (c.name == s.name) return d;  // nothing changes, nothing is written
  DraftEvent e;
  e.type = "organization.renamed";
  e.data["org_id"] = org_id;
  e.data["name"] = c.name;
  e.data["previous_name"] = s.name;
  d.events.push_back(std::move(e));
  return d;
}

void apply(State& s, const std::string& type, const json::object& data, std::int64_t) {
  auto str = [&](const char* k) {
    auto* v = data.if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (type == "organization.created") {
    s.exists = true;
    s.slug = str("slug");
    s.name = str("name");
    s.owner_user_id = str("owner_user_id");
  } else if (type == "organization.renamed") {
    s.name = str("name");
  }
}

}  // namespace causeway::organization
