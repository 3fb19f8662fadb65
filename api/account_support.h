// What the account routes share (session_routes.cpp, account_routes.cpp): the
// caller's address and user agent, 429 replies, a user's credentials, and the
// equal-cost answer for unknown emails.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/problem.h"
#include "api/routes.h"
#include "engine/password.h"
#include "events/event_log.h"
#include "events/key_vault.h"

namespace causeway::api {

// The TCP peer the server put in "Causeway-Peer" (a client cannot set it).
std::string peer_of(const Request& req);
// The User-Agent, at most 512 bytes.
std::string user_agent_of(const Request& req);
// 429 with Retry-After rounded up to whole seconds (at least 1).
Response too_many(const std::string& why, std::int64_t wait_us, const std::string& instance,
                  const std::string& request_id, unsigned ver);
// A hash to verify against when the email is unknown, so both answers cost the same.
const std::string& dummy_hash(const PasswordParams& p);

// A user's password hashes, newest first (sign-up, then each change; erased or
// expired ones are left out), and their email and display name (for the
// password policy), opened from the sealed events.
struct Credentials {
  std::vector<std::string> hashes;
  std::string email;
  std::string display_name;
};
Result<Credentials> credentials_of(EventLog& log, KeyVault& vault, const std::string& user_id);

}  // namespace causeway::api
