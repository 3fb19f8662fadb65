#include "engine/aggregates/user.h"

namespace causeway::user {

Result<Decision> decide(const State& s, const Signup& c, std::int64_t) {
  if (s.exists) return Error::conflict("the user already exists");
  Decision d;
  DraftEvent e;
  e.type = "user.signed_up";
  e.data["user_id"] = c.user_id;
  e.data["email"] = c.email;
  e.data["display_name"] = c.display_name;
  e.data["password_hash"] = c.password_hash;
  e.subjects = {c.user_id};
  d.events.push_back(std::move(e));
  d.reservations.push_back({"email:" + c.email_index, stream_of(c.user_id), "/email"});
  return d;
}

void apply(State& s, const std::string& type, const boost::json::object&, std::int64_t occurred_at_us) {
  if (type == "user.signed_up") {
    s.exists = true;
    s.signed_up_at_us = occurred_at_us;
  }
}

}  // namespace causeway::user
