#include "engine/aggregates/session.h"

#include <sodium.h>

#include <algorithm>
#include "events/json_fields.h"

namespace causeway::session {
namespace {

void put_tokens(boost::json::object& d, const Tokens& t) {
  d["access_hash"] = t.access_hash;
  d["access_expires_at_us"] = t.access_expires_at_us;
  d["refresh_hash"] = t.refresh_hash;
  d["refresh_expires_at_us"] = t.refresh_expires_at_us;
}

}  // namespace

bool same_hash(const std::string& a, const std::string& b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<Decision> decide_start(const std::string& session_id, const std::string& user_id, bool user_exists,
                              const Tokens& t, const std::string& user_agent, const std::string& ip) {
  if (!user_exists) return Error::not_found("no such user");
  DraftEvent e;
  e.type = "session.started";
  e.data["session_id"] = session_id;
  e.data["user_id"] = user_id;
  put_tokens(e.data, t);
  e.data["user_agent"] = user_agent;
  e.data["ip"] = ip;
  e.subjects = {user_id};
  Decision d;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_impersonate(const std::string& session_id, const std::string& user_id, bool user_exists,
                                    const std::string& access_hash, const std::string& impersonator,
                                    const std::string& reason, std::int64_t now_us, std::int64_t ends_at_us,
                                    const std::string& user_agent, const std::string& ip) {
  if (reason.size() < 10) return Error::invalid("say why, in at least 10 characters", "/reason");
  if (ends_at_us <= now_us || ends_at_us - now_us > kImpersonationMaxUs)
    return Error::invalid("an impersonation lasts 1 to 60 minutes", "/minutes");
  auto d = decide_start(session_id, user_id, user_exists, Tokens{access_hash, "", ends_at_us, ends_at_us},
                        user_agent, ip);
  if (!d) return d;
  auto& data = d->events.front().data;
  data["method"] = "impersonation";
  data["impersonator"] = impersonator;
  data["reason"] = reason;
  return d;
}

Result<Decision> decide_refresh(const State& s, const std::string& session_id, const std::string& presented_hash,
                                const Tokens& next, std::int64_t now_us, bool& reused) {
  reused = false;
  if (!s.exists || s.revoked) return Error::unauthorized("the refresh token is not valid");
  Decision d;
  if (std::any_of(s.rotated.begin(), s.rotated.end(), [&](const auto& h) { return same_hash(h, presented_hash); })) {
    // A rotated-away token came back: someone holds a copy. Revoke the family.
    reused = true;
    DraftEvent r;
    r.type = "session.refresh_reused";
    r.data["session_id"] = session_id;
    r.subjects = {s.user_id};
    d.events.push_back(std::move(r));
    DraftEvent v;
    v.type = "session.revoked";
    v.data["session_id"] = session_id;
    v.data["reason"] = "refresh_reuse";
    v.subjects = {s.user_id};
    d.events.push_back(std::move(v));
    return d;
  }
  if (!same_hash(s.refresh_hash, presented_hash) || now_us >= s.refresh_expires_at_us)
    return Error::unauthorized("the refresh token is not valid");
  DraftEvent e;
  e.type = "session.refreshed";
  e.data["session_id"] = session_id;
  put_tokens(e.data, next);
  e.subjects = {s.user_id};
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_revoke(const State& s, const std::string& session_id, const std::string& reason) {
  if (!s.exists) return Error::not_found("no such session");
  Decision d;
  if (s.revoked) return d;  // revoking twice writes nothing
  DraftEvent e;
  e.type = "session.revoked";
  e.data["session_id"] = session_id;
  e.data["reason"] = reason;
  e.subjects = {s.user_id};
  d.events.push_back(std::move(e));
  return d;
}

void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t) {
  auto take_tokens = [&] {
    s.access_hash = string_field(data, "access_hash");
    s.access_expires_at_us = int_field(data, "access_expires_at_us");
    s.refresh_hash = string_field(data, "refresh_hash");
    s.refresh_expires_at_us = int_field(data, "refresh_expires_at_us");
  };
  if (type == "session.started") {
    s.exists = true;
    s.user_id = string_field(data, "user_id");
    s.impersonator = string_field(data, "impersonator");
    take_tokens();
  } else if (type == "session.refreshed") {
    s.rotated.push_back(s.refresh_hash);
    if (s.rotated.size() > kRotatedKept) s.rotated.erase(s.rotated.begin());
    take_tokens();
  } else if (type == "session.revoked") {
    s.revoked = true;
  }
}

}  // namespace causeway::session
