// The inbox aggregate (stream "inbox-<user id>"): what a user has read of the
// in-app notifications that workflows send them (the notify action records
// run.event_emitted with event_type notification.created and the recipient).
// Pure functions only. Tenant: none; subjects: [user].
//
// The notifications themselves live in the run's events and the
// "notifications" view; this stream holds only the user's reading:
//   notification.read      {user_id, notification_id}
//   notification.all_read  {user_id, through_position}   every notification at
//                                                         or before that log position
// Marking read what is already read writes nothing. State stays bounded: the
// watermark, and the ids read one by one since (the newest kReadKept).
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/decision.h"
#include "events/result.h"

namespace causeway::inbox {

struct State {
  std::uint64_t read_through = 0;  // log position: every notification at or before it is read
  std::vector<std::string> read;   // ids read one by one, oldest first
  template <class Ar>
  void serialize(Ar& ar) { ar(read_through, read); }
};
inline constexpr std::uint32_t kStateFormat = 1;
inline constexpr std::size_t kReadKept = 1000;

inline std::string stream_of(const std::string& user_id) { return "inbox-" + user_id; }

// `position`: where the notification is in the log (the caller found it).
Result<Decision> decide_read(const State& s, const std::string& user_id, const std::string& notification_id,
                             std::uint64_t position);
Result<Decision> decide_read_all(const State& s, const std::string& user_id, std::uint64_t through_position);
void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

}  // namespace causeway::inbox
