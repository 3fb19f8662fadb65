// Identifiers: 128-bit, time-ordered (UUIDv7 layout: 48-bit Unix milliseconds,
// then random bits), written as 32 lower-case hex digits, optionally prefixed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/event_log.h"

namespace causeway {

std::string new_id(std::int64_t now_us);
inline std::string new_id(std::string_view prefix, std::int64_t now_us) {
  return std::string(prefix) + "-" + new_id(now_us);
}
// An id placed on the partition of `near` (ARCHITECTURE.md "Placement"):
// new_id(prefix, now) drawn until log.partition_of agrees — an organization's
// workflows, keys and runs near the organization, a user's sessions near the
// user, an aggregate that claims a unique key near that key. With one
// partition the first draw is taken.
std::string new_id_near(std::string_view prefix, std::int64_t now_us, const EventLog& log, std::string_view near);
// A derived id, the same for the same `seed`: prefix-<BLAKE2b of seed>, or of
// seed + "#k" for the smallest k that places it near `near` (k = 0 is the seed
// alone, so one partition derives what it always did).
std::string derived_id_near(std::string_view prefix, std::string_view seed, const EventLog& log,
                            std::string_view near);
// 32 random bytes as 64 hex digits, for tokens.
std::string random_token_hex();
// Whether `s` is non-empty and only lower-case hex digits.
bool is_lower_hex(std::string_view s);
// Whether `id` is "<prefix>-<32 lower-case hex>", as new_id(prefix, …) makes.
bool is_id(std::string_view id, std::string_view prefix);

}  // namespace causeway
