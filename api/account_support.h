// What the account routes share (session_routes.cpp, account_routes.cpp): the
// caller's address and user agent, 429 replies, a user's credentials, and the
// equal-cost answer for unknown emails.
#pragma once

#include <cstdint>
#include <boost/json/object.hpp>
#include <map>
#include <span>
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

struct Fields {
  std::map<std::string, std::string> text;  // the named string fields
  boost::json::object factor;               // {"otp"} or {"backup_code"}, when allowed and given
};

// The body as string fields, for the routes whose bodies hold credentials
// (they are checked here, not by a schema, so no value reaches an error or a
// log): exactly `fields` (plus otp or backup_code when `factor`), each a
// string of 1 to 1024 characters, all of `fields` present; else 422 with the
// pointer of the first problem.
Result<Fields> string_fields(const boost::json::value& body, std::span<const char* const> fields, bool factor);


}  // namespace causeway::api
