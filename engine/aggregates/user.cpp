#include "engine/aggregates/user.h"

#include <algorithm>
#include <cctype>

#include "events/json_fields.h"

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
  if (!c.verification_token_id.empty()) {
    e.data["verification_token_id"] = c.verification_token_id;
    e.data["verification_expires_at_us"] = c.verification_expires_at_us;
  }
  if (!c.referred_by.empty()) e.data["referred_by"] = c.referred_by;
  e.subjects = {c.user_id};
  d.events.push_back(std::move(e));
  d.reservations.push_back({"email:" + c.email_index, stream_of(c.user_id), "/email"});
  if (!c.referral_code.empty()) d.reservations.push_back({"referral:" + c.referral_code, stream_of(c.user_id), "/referral_code"});
  return d;
}

std::int64_t locked_until(const State& s, std::int64_t now_us) {
  if (s.failures.size() < kLockoutFailures) return 0;
  const std::int64_t until = s.failures.front() + kLockoutWindowUs;
  return now_us < until ? until : 0;
}

namespace {
DraftEvent user_event(const char* type, const std::string& user_id) {
  DraftEvent e;
  e.type = type;
  e.data["user_id"] = user_id;
  e.subjects = {user_id};
  return e;
}
std::int64_t i64(const boost::json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_int64() ? v->as_int64() : -1;
}
}  // namespace

Result<Decision> decide_login_failure(const State& s, const std::string& user_id, const std::string& ip) {
  if (!s.exists) return Error::not_found("no such user");
  auto e = user_event("user.login_failed", user_id);
  e.data["ip"] = ip;
  return decision_of(std::move(e));
}

Result<Decision> decide_totp_enroll(const State& s, const std::string& user_id, const std::string& secret_b32) {
  if (!s.exists) return Error::not_found("no such user");
  if (s.totp_enabled) return Error::conflict("two-factor is already on: turn it off first");
  auto e = user_event("user.totp_enrolled", user_id);
  e.data["secret"] = secret_b32;
  return decision_of(std::move(e));
}

Result<Decision> decide_totp_enable(const State& s, const std::string& user_id, std::int64_t step,
                                    const std::vector<std::string>& backup_code_hashes) {
  if (!s.exists) return Error::not_found("no such user");
  if (s.totp_enabled) return Error::conflict("two-factor is already on");
  if (!s.totp_pending) return Error::conflict("enroll first: POST /v1/me/totp");
  auto e = user_event("user.totp_enabled", user_id);
  e.data["step"] = step;
  e.data["backup_code_hashes"] = boost::json::array(backup_code_hashes.begin(), backup_code_hashes.end());
  return decision_of(std::move(e));
}

Result<Decision> decide_second_factor(const State& s, const std::string& user_id, std::int64_t step, int index) {
  if (!s.totp_enabled) return Error::conflict("two-factor is off");
  auto e = user_event("user.second_factor_used", user_id);
  if (step >= 0) {
    if (step <= s.totp_last_step) return Error::unauthorized("this one-time code was already used");
    e.data["method"] = "totp";
    e.data["step"] = step;
  } else {
    if (index < 0 || static_cast<std::size_t>(index) >= s.backup_used.size() || s.backup_used[index])
      return Error::unauthorized("this backup code is not valid or was already used");
    e.data["method"] = "backup_code";
    e.data["index"] = index;
  }
  return decision_of(std::move(e));
}

Result<Decision> decide_password_change(const State& s, const std::string& user_id, const std::string& password_hash) {
  if (!s.exists) return Error::not_found("no such user");
  auto e = user_event("user.password_changed", user_id);
  e.data["password_hash"] = password_hash;
  return decision_of(std::move(e));
}

Result<Decision> decide_request_token(const State& s, const std::string& user_id, const std::string& purpose,
                                      const std::string& token_id, std::int64_t expires_at_us) {
  if (!s.exists) return Error::not_found("no such user");
  const char* type = purpose == "verify_email"     ? "user.verification_requested"
                     : purpose == "password_reset" ? "user.password_reset_requested"
                     : purpose == "magic_link"     ? "user.magic_link_requested"
                                                   : nullptr;
  if (!type) return Error::invalid("unknown token purpose");
  Decision d;
  if (purpose == "verify_email" && s.email_verified) return d;  // nothing to verify
  auto e = user_event(type, user_id);
  e.data["token_id"] = token_id;
  e.data["expires_at_us"] = expires_at_us;
  d.events.push_back(std::move(e));
  return d;
}

std::int64_t token_ttl_us(const std::string& purpose) {
  constexpr std::int64_t kMinute = 60LL * 1'000'000;
  if (purpose == "password_reset") return 60 * kMinute;
  if (purpose == "magic_link") return 15 * kMinute;
  return 7 * 24 * 60 * kMinute;
}

Result<State::Token> usable_token(const State& s, const std::string& purpose, const std::string& token_id,
                                  std::int64_t now_us) {
  for (const auto& t : s.tokens)
    if (t.id == token_id && t.purpose == purpose) {
      if (t.used) return Error::unauthorized("this link was already used");
      if (t.ended) return Error::unauthorized("this link was ended by a later password change");
      if (now_us >= t.expires_at_us) return Error::unauthorized("this link has expired");
      return t;
    }
  return Error::unauthorized("this link is not valid");
}

Result<Decision> decide_verify_email(const State& s, const std::string& user_id, const std::string& token_id,
                                     std::int64_t now_us) {
  Decision d;
  if (s.email_verified) return d;
  if (auto t = usable_token(s, "verify_email", token_id, now_us); !t) return std::move(t).error();
  auto e = user_event("user.email_verified", user_id);
  e.data["token_id"] = token_id;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_password_reset(const State& s, const std::string& user_id, const std::string& token_id,
                                       const std::string& password_hash, std::int64_t now_us) {
  if (auto t = usable_token(s, "password_reset", token_id, now_us); !t) return std::move(t).error();
  auto d = decide_password_change(s, user_id, password_hash);
  if (d) d->events.front().data["token_id"] = token_id;
  return d;
}

Result<Decision> decide_totp_disable(const State& s, const std::string& user_id) {
  Decision d;
  if (!s.totp_enabled && !s.totp_pending) return d;
  d.events.push_back(user_event("user.totp_disabled", user_id));
  return d;
}

namespace {
void issue(State& s, const boost::json::object& data, const char* id_key, const char* expires_key,
           const char* purpose) {
  auto id = string_field(data, id_key);
  if (id.empty()) return;
  s.tokens.push_back({std::move(id), purpose, int_field(data, expires_key), false});
  if (s.tokens.size() > kTokensKept) s.tokens.erase(s.tokens.begin());
}
void spend(State& s, const boost::json::object& data) {
  const auto id = string_field(data, "token_id");
  for (auto& t : s.tokens)
    if (!id.empty() && t.id == id) t.used = true;
}
// A new password ends every outstanding link that signs in or sets the
// password: whoever read an older mail keeps no way in.
void end_sign_in_links(State& s) {
  for (auto& t : s.tokens)
    if (!t.used && (t.purpose == "password_reset" || t.purpose == "magic_link")) t.ended = true;
}
}  // namespace

void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us) {
  if (type == "user.signed_up") {
    s.exists = true;
    s.signed_up_at_us = occurred_at_us;
    s.password_changed_at_us = occurred_at_us;
    issue(s, data, "verification_token_id", "verification_expires_at_us", "verify_email");
    s.referred_by = string_field(data, "referred_by");
  } else if (type == "user.verification_requested") {
    issue(s, data, "token_id", "expires_at_us", "verify_email");
  } else if (type == "user.password_reset_requested") {
    issue(s, data, "token_id", "expires_at_us", "password_reset");
  } else if (type == "user.magic_link_requested") {
    issue(s, data, "token_id", "expires_at_us", "magic_link");
  } else if (type == "user.email_verified") {
    s.email_verified = true;
    spend(s, data);
  } else if (type == "user.password_changed") {
    s.password_changed_at_us = occurred_at_us;
    spend(s, data);
    end_sign_in_links(s);
  } else if (type == "user.login_failed") {
    s.failures.push_back(occurred_at_us);
    if (s.failures.size() > kLockoutFailures) s.failures.erase(s.failures.begin());
  } else if (type == "user.totp_enrolled") {
    s.totp_pending = true;
  } else if (type == "user.totp_enabled") {
    s.totp_pending = false;
    s.totp_enabled = true;
    s.totp_last_step = i64(data, "step");
    s.backup_hashes.clear();
    if (auto* a = data.if_contains("backup_code_hashes"); a && a->is_array())
      for (auto& h : a->as_array())
        if (h.is_string()) s.backup_hashes.emplace_back(h.as_string());
    s.backup_used.assign(s.backup_hashes.size(), false);
  } else if (type == "user.second_factor_used") {
    if (auto step = i64(data, "step"); step >= 0) s.totp_last_step = std::max(s.totp_last_step, step);
    if (auto index = i64(data, "index"); index >= 0 && static_cast<std::size_t>(index) < s.backup_used.size())
      s.backup_used[static_cast<std::size_t>(index)] = true;
  } else if (type == "user.totp_disabled") {
    State off;
    off.exists = s.exists;
    off.signed_up_at_us = s.signed_up_at_us;
    off.failures = s.failures;
    off.password_changed_at_us = s.password_changed_at_us;
    off.email_verified = s.email_verified;
    off.tokens = std::move(s.tokens);
    off.referred_by = s.referred_by;
    s = std::move(off);
  }
}

}  // namespace causeway::user
