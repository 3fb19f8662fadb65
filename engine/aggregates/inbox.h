// The inbox aggregate (stream "inbox-<user id>"): what a user has read of the
// in-app notifications that workflows send them (the notify action records
// run.event_emitted with event_type notification.created and the recipient).
// Pure functions only. Tenant: none; subjects: [user].
//
// The notifications themselves live in the run's events and the
// "notifications" view; this stream holds only the user's reading:
//   notification.read      {user_id, notification_id}
//   notification.all_read  {user_id, through_position, partition}
//       every notification of that log partition at or before that position
//       (no partition: 0, as recorded before logs had several)
// A notification is in its organization's partition, so an inbox spans
// partitions: marking all read records one all_read per partition that moved.
// Marking read what is already read writes nothing. State stays bounded: a
// watermark per partition, and the ids read one by one (the newest kReadKept).
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
  // Per partition: every notification at or before that position is read (missing: 0).
  std::vector<std::uint64_t> read_through;
  std::vector<std::string> read;  // ids read one by one, oldest first
  template <class Ar>
  void serialize(Ar& ar) { ar(read_through, read); }

  std::uint64_t through(std::uint32_t partition) const {
    return partition < read_through.size() ? read_through[partition] : 0;
  }
};
inline constexpr std::uint32_t kStateFormat = 2;  // 2: a watermark per partition
inline constexpr std::size_t kReadKept = 1000;

inline std::string stream_of(const std::string& user_id) { return "inbox-" + user_id; }

// `partition`, `position`: where the notification is in the log (the caller found it).
Result<Decision> decide_read(const State& s, const std::string& user_id, const std::string& notification_id,
                             std::uint32_t partition, std::uint64_t position);
// `through`: per partition, the newest notification the user can see (0: none).
Result<Decision> decide_read_all(const State& s, const std::string& user_id, const std::vector<std::uint64_t>& through);
void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

}  // namespace causeway::inbox
