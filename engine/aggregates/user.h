// The user aggregate (stream "user-<id>"): sign-up. Pure functions only.
//
// Personal data (email, display name, password hash) lives only in sealed event
// fields; the state keeps none of it, so erasing a user never touches state.
#pragma once

#include <cstdint>
#include <cereal/types/vector.hpp>
#include <string>
#include <vector>

#include "engine/decision.h"
#include "events/result.h"

namespace causeway::user {

struct State {
  bool exists = false;
  std::int64_t signed_up_at_us = 0;
  std::vector<std::int64_t> failures;  // times of the last kLockoutFailures failed logins
  // Two-factor (engine/totp.h). The secret is only in the sealed
  // user.totp_enrolled event; state keeps what is not personal.
  bool totp_pending = false;           // enrolled, not yet confirmed with a code
  bool totp_enabled = false;
  std::int64_t totp_last_step = 0;     // codes of this step and earlier are spent
  std::vector<std::string> backup_hashes;  // hex BLAKE2b of each backup code
  std::vector<bool> backup_used;
  std::int64_t password_changed_at_us = 0;  // sign-up or the last password change
  bool email_verified = false;
  // Account tokens (email verification, password reset, magic link) issued
  // and not yet spent or expired; the newest kTokensKept. Only ids: a token's
  // secret part is derived from its id with a server key (engine/mail/tokens.h)
  // and never stored anywhere.
  struct Token {
    std::string id;
    std::string purpose;  // "verify_email" | "password_reset" | "magic_link"
    std::int64_t expires_at_us = 0;
    bool used = false;
    bool ended = false;  // a password change ended it (password_reset, magic_link)
    template <class Ar>
    void serialize(Ar& ar) { ar(id, purpose, expires_at_us, used, ended); }
  };
  std::vector<Token> tokens;
  std::string referred_by;  // the user whose referral code the signup gave
  template <class Ar>
  void serialize(Ar& ar) {
    ar(exists, signed_up_at_us, failures, totp_pending, totp_enabled, totp_last_step, backup_hashes, backup_used,
       password_changed_at_us, email_verified, tokens, referred_by);
  }
};
// 2: failures, 3: two-factor, 4: password age, 5: tokens, 6: referrer, 7: links ended by a password change
inline constexpr std::uint32_t kStateFormat = 7;
inline constexpr std::size_t kTokensKept = 20;
// How long a token of `purpose` stays usable: a verification link 7 days, a
// password reset link 1 hour, a sign-in link 15 minutes.
std::int64_t token_ttl_us(const std::string& purpose);

// Account tokens. `purpose` is one of the three above.
//   user.verification_requested  {user_id, token_id, expires_at_us}
//   user.password_reset_requested {user_id, token_id, expires_at_us}
//   user.magic_link_requested    {user_id, token_id, expires_at_us}
//   user.email_verified          {user_id, token_id}
// A password reset is user.password_changed with its token_id; a magic-link
// login is session.started with method "magic_link" and its token_id (single
// use: the session's commit reserves "account_token:<id>"). Every
// user.password_changed (a reset or a change) ends the user's outstanding
// password_reset and magic_link tokens, in the state (apply), so an older
// mail's link is refused however the password was changed. A verification
// link only confirms the address and stays usable.
Result<Decision> decide_request_token(const State& s, const std::string& user_id, const std::string& purpose,
                                      const std::string& token_id, std::int64_t expires_at_us);
// The token, if `token_id` was issued for `purpose` and is neither spent nor
// expired at `now_us`; else Errc::unauthorized.
Result<State::Token> usable_token(const State& s, const std::string& purpose, const std::string& token_id,
                                  std::int64_t now_us);
// Verifying an already verified address writes nothing.
Result<Decision> decide_verify_email(const State& s, const std::string& user_id, const std::string& token_id,
                                     std::int64_t now_us);
// A password reset: user.password_changed {user_id, password_hash, token_id}.
Result<Decision> decide_password_reset(const State& s, const std::string& user_id, const std::string& token_id,
                                       const std::string& password_hash, std::int64_t now_us);

// How many earlier passwords a new one must differ from (history rule).
inline constexpr std::size_t kPasswordHistory = 5;
// user.password_changed {user_id, password_hash}: the hash is personal and secret (sealed).
Result<Decision> decide_password_change(const State& s, const std::string& user_id, const std::string& password_hash);

// Lockout: kLockoutFailures failed logins within kLockoutWindowUs lock the
// account until the oldest of them is kLockoutWindowUs old.
inline constexpr std::size_t kLockoutFailures = 5;
inline constexpr std::int64_t kLockoutWindowUs = 15LL * 60 * 1'000'000;
// 0 when logins are allowed at `now_us`, else when they are again.
std::int64_t locked_until(const State& s, std::int64_t now_us);
// user.login_failed {user_id, ip}: a wrong password or one-time code (ip is personal, sealed).
Result<Decision> decide_login_failure(const State& s, const std::string& user_id, const std::string& ip);

// Two-factor. The caller checks codes (it can open the secret); these decide.
//   user.totp_enrolled     {user_id, secret}            secret: base32, personal and secret
//   user.totp_enabled      {user_id, step, backup_code_hashes}
//   user.second_factor_used {user_id, method: totp|backup_code, step|index}
//   user.totp_disabled     {user_id}
Result<Decision> decide_totp_enroll(const State& s, const std::string& user_id, const std::string& secret_b32);
Result<Decision> decide_totp_enable(const State& s, const std::string& user_id, std::int64_t step,
                                    const std::vector<std::string>& backup_code_hashes);
// `step` >= 0: a TOTP code of that step; else `index` of a backup code.
Result<Decision> decide_second_factor(const State& s, const std::string& user_id, std::int64_t step, int index);
Result<Decision> decide_totp_disable(const State& s, const std::string& user_id);

struct Signup {
  std::string user_id;        // "user-<32 hex>", chosen by the caller
  std::string email;          // normalized (trimmed, lower-case)
  std::string email_index;    // blind index of `email`, for the unique reservation
  std::string display_name;
  std::string password_hash;  // argon2id, encoded
  // The email verification token issued with the signup (user.signed_up
  // carries it, so the welcome mail needs no second event).
  std::string verification_token_id;
  std::int64_t verification_expires_at_us = 0;
  // Referrals: this user's own code (reserved "referral:<code>", so it
  // resolves to them), and the referrer whose code the signup gave, if any.
  std::string referral_code;
  std::string referred_by;
};

Result<Decision> decide(const State& s, const Signup& c, std::int64_t now_us);
void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

inline std::string stream_of(const std::string& user_id) { return user_id; }
// Trimmed and lower-cased: the form that is stored and blind-indexed.
std::string normalize_email(std::string email);

}  // namespace causeway::user
