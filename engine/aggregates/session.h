// The session aggregate (stream "session-<32 hex>"): one login of one user, its
// short-lived access token and its rotating refresh token. Tenant: none;
// every event's subjects are [user id]. Pure functions only.
//
// Tokens are random and shown once (in the login and refresh replies):
//   access  "cwa_<32 hex session>_<64 hex secret>"
//   refresh "cwr_<32 hex session>_<64 hex secret>"
// Only their BLAKE2b hashes are in events and state; api/ compares hashes in
// constant time. A refresh rotates both tokens. Presenting a refresh token
// that was already rotated away is a reuse: the whole session (the token
// family) is revoked and session.refresh_reused is recorded as a security
// event. The device's user agent and IP are personal data (sealed).
//
// Events:
//   session.started        {session_id, user_id, access_hash, access_expires_at_us,
//                           refresh_hash, refresh_expires_at_us, user_agent, ip}
//   session.refreshed      {session_id, access_hash, access_expires_at_us, refresh_hash,
//                           refresh_expires_at_us}
//   session.refresh_reused {session_id}
//   session.revoked        {session_id, reason}   reason: logout | revoked | refresh_reuse
//
// Impersonation: the operator acts as a user. session.started then has method
// "impersonation", the impersonator ("admin") and a reason (personal, shown
// to the user in their session list), an access token that lasts the whole
// window (at most kImpersonationMaxUs) and no refresh token: it cannot be
// extended. Everything done with it records the user as actor and the admin
// as impersonator (Actor::impersonator).
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/decision.h"
#include "events/result.h"

namespace causeway::session {

struct State {
  bool exists = false;
  bool revoked = false;
  std::string user_id;
  std::string access_hash;
  std::int64_t access_expires_at_us = 0;
  std::string refresh_hash;
  std::int64_t refresh_expires_at_us = 0;
  std::vector<std::string> rotated;  // refresh hashes rotated away (the last kRotatedKept)
  std::string impersonator;          // "admin" for an impersonation session
  template <class Ar>
  void serialize(Ar& ar) {
    ar(exists, revoked, user_id, access_hash, access_expires_at_us, refresh_hash, refresh_expires_at_us, rotated,
       impersonator);
  }
};
inline constexpr std::uint32_t kStateFormat = 2;  // 2: impersonator
inline constexpr std::int64_t kImpersonationMaxUs = 60LL * 60 * 1'000'000;
inline constexpr std::size_t kRotatedKept = 1000;

struct Tokens {
  std::string access_hash, refresh_hash;
  std::int64_t access_expires_at_us = 0, refresh_expires_at_us = 0;
};

// `user_exists` is looked up by the caller (after the password was checked).
Result<Decision> decide_start(const std::string& session_id, const std::string& user_id, bool user_exists,
                              const Tokens& t, const std::string& user_agent, const std::string& ip);
// An impersonation of `user_id` by `impersonator` until `ends_at_us` (at most
// kImpersonationMaxUs after `now_us`); `reason` is required.
Result<Decision> decide_impersonate(const std::string& session_id, const std::string& user_id, bool user_exists,
                                    const std::string& access_hash, const std::string& impersonator,
                                    const std::string& reason, std::int64_t now_us, std::int64_t ends_at_us,
                                    const std::string& user_agent, const std::string& ip);
// `presented_hash` is the hash of the refresh token presented. Reuse of a
// rotated token decides session.refresh_reused + session.revoked and the caller
// answers 401 after recording them (see `reused`).
Result<Decision> decide_refresh(const State& s, const std::string& session_id, const std::string& presented_hash,
                                const Tokens& next, std::int64_t now_us, bool& reused);
Result<Decision> decide_revoke(const State& s, const std::string& session_id, const std::string& reason);
void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

// Constant-time equality of two hex hashes.
bool same_hash(const std::string& a, const std::string& b);

}  // namespace causeway::session
