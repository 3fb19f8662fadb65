// The user aggregate (stream "user-<id>"): sign-up. Pure functions only.
//
// Personal data (email, display name, password hash) lives only in sealed event
// fields; the state keeps none of it, so erasing a user never touches state.
#pragma once

#include <cstdint>
#include <string>

#include "engine/decision.h"
#include "events/result.h"

namespace causeway::user {

struct State {
  bool exists = false;
  std::int64_t signed_up_at_us = 0;
  template <class Ar>
  void serialize(Ar& ar) { ar(exists, signed_up_at_us); }
};
inline constexpr std::uint32_t kStateFormat = 1;

struct Signup {
  std::string user_id;        // "user-<32 hex>", chosen by the caller
  std::string email;          // normalized (trimmed, lower-case)
  std::string email_index;    // blind index of `email`, for the unique reservation
  std::string display_name;
  std::string password_hash;  // argon2id, encoded
};

Result<Decision> decide(const State& s, const Signup& c, std::int64_t now_us);
void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

inline std::string stream_of(const std::string& user_id) { return user_id; }

}  // namespace causeway::user
