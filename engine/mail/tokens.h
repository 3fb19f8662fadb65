// Account tokens: the single-use, expiring links of email verification,
// password reset and magic-link login, and of invitations to an organization.
//
//   "cwt_<32 hex user>_<32 hex token id>_<64 hex MAC>"
//   "cwt_<32 hex org>_<32 hex invitation id>_<64 hex MAC>"   (purpose "invitation")
//
// The token id is random (new_id) and recorded in the user's stream with the
// token's purpose and expiry (engine/aggregates/user.h). The MAC is the keyed
// BLAKE2b of (purpose, user, token id) under a key derived from the master
// key (KeyVault::blind_index, domain "account_token"): the secret part is
// never stored anywhere, not even hashed, and the mail sender derives it
// again when it renders the mail from the outbox event. A token of one
// purpose never passes as another. Checking compares in constant time; the
// caller then checks the id against the user's state (spent, expired).
#pragma once

#include <string>
#include <string_view>

#include "events/key_vault.h"
#include "events/result.h"

namespace causeway::mail {

// `user_id`: the token's owner, "user-<32 hex>" (or "org-<32 hex>" for an invitation).
std::string make_account_token(const KeyVault& vault, std::string_view purpose, const std::string& user_id,
                               const std::string& token_id);

struct TokenRef {
  std::string user_id;   // "<owner_prefix><32 hex>"
  std::string token_id;  // 32 hex
};
// Errc::unauthorized unless `token` is well formed and its MAC is right for `purpose`.
Result<TokenRef> check_account_token(const KeyVault& vault, std::string_view purpose, std::string_view token,
                                     std::string_view owner_prefix = "user-");

}  // namespace causeway::mail
