// The API key aggregate (stream "key-<id>"): machine credentials of one
// organization, with a role. Pure functions only.
//
// The secret is never in an event or in state: only its BLAKE2b hash is. The
// token ("cwk_<key id>_<64 hex secret>") is shown once, in the creation reply,
// and authenticating compares hashes in constant time (api/).
#pragma once

#include <cstdint>
#include <string>

#include "engine/decision.h"
#include "events/result.h"

namespace causeway::api_key {

struct State {
  bool exists = false;
  bool revoked = false;
  std::string org_id;
  std::string role;
  std::string secret_hash;  // hex BLAKE2b-256 of the secret
  template <class Ar>
  void serialize(Ar& ar) { ar(exists, revoked, org_id, role, secret_hash); }
};
inline constexpr std::uint32_t kStateFormat = 1;

// A key's role is one of organization::valid_role's, as a member's is.
struct Create {
  std::string key_id;  // "key-<32 hex>", chosen by the caller
  std::string org_id;
  bool org_exists = false;  // looked up by the caller before deciding
  std::string name;
  std::string role;
  std::string secret_hash;
};

Result<Decision> decide(const State& s, const Create& c, std::int64_t now_us);
Result<Decision> decide_revoke(const State& s, const std::string& key_id, std::int64_t now_us);
void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

}  // namespace causeway::api_key
