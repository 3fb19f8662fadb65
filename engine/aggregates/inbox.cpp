#include "engine/aggregates/inbox.h"

#include <algorithm>

#include "events/json_fields.h"

namespace causeway::inbox {

Result<Decision> decide_read(const State& s, const std::string& user_id, const std::string& notification_id,
                             std::uint32_t partition, std::uint64_t position) {
  if (position <= s.through(partition) ||
      std::find(s.read.begin(), s.read.end(), notification_id) != s.read.end())
    return Decision{};
  DraftEvent e;
  e.type = "notification.read";
  e.data["user_id"] = user_id;
  e.data["notification_id"] = notification_id;
  e.subjects = {user_id};
  return decision_of(std::move(e));
}

Result<Decision> decide_read_all(const State& s, const std::string& user_id, const std::vector<std::uint64_t>& through) {
  Decision d;
  for (std::uint32_t p = 0; p < through.size(); ++p) {
    if (through[p] <= s.through(p)) continue;
    DraftEvent e;
    e.type = "notification.all_read";
    e.data["user_id"] = user_id;
    e.data["through_position"] = static_cast<std::int64_t>(through[p]);
    e.data["partition"] = static_cast<std::int64_t>(p);
    e.subjects = {user_id};
    d.events.push_back(std::move(e));
  }
  return d;
}

void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t) {
  if (type == "notification.read") {
    s.read.push_back(string_field(data, "notification_id"));
    if (s.read.size() > kReadKept) s.read.erase(s.read.begin());
  } else if (type == "notification.all_read") {
    const auto p = static_cast<std::size_t>(int_field(data, "partition"));
    if (s.read_through.size() <= p) s.read_through.resize(p + 1, 0);
    s.read_through[p] = static_cast<std::uint64_t>(int_field(data, "through_position"));
  }
}

}  // namespace causeway::inbox
