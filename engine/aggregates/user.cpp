#include "engine/aggregates/user.h"

#include <algorithm>
#include <cctype>

namespace causeway::user {

std::string normalize_email(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

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

std::int64_t locked_until(const State& s, std::int64_t now_us) {
  if (s.failures.size() < kLockoutFailures) return 0;
  const std::int64_t until = s.failures.front() + kLockoutWindowUs;
  return now_us < until ? until : 0;
}

Result<Decision> decide_login_failure(const State& s, const std::string& user_id, const std::string& ip) {
  if (!s.exists) return Error::not_found("no such user");
  DraftEvent e;
  e.type = "user.login_failed";
  e.data["user_id"] = user_id;
  e.data["ip"] = ip;
  e.subjects = {user_id};
  Decision d;
  d.events.push_back(std::move(e));
  return d;
}

void apply(State& s, const std::string& type, const boost::json::object&, std::int64_t occurred_at_us) {
  if (type == "user.signed_up") {
    s.exists = true;
    s.signed_up_at_us = occurred_at_us;
  } else if (type == "user.login_failed") {
    s.failures.push_back(occurred_at_us);
    if (s.failures.size() > kLockoutFailures) s.failures.erase(s.failures.begin());
  }
}

}  // namespace causeway::user
