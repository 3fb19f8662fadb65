// What a pure decide() returns: the events to append and the unique values to
// reserve, in the same atomic commit.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "events/event_log.h"

namespace causeway {

struct DraftEvent {
  std::string type;
  std::uint32_t schema_version = 1;
  boost::json::object data;           // plaintext; personal fields are sealed later
  std::vector<std::string> subjects;  // data subjects; the first one keys sealed fields
};

struct Decision {
  std::vector<DraftEvent> events;
  std::vector<Reservation> reservations;
};

// A decision of one event and no reservation: the common case.
inline Decision decision_of(DraftEvent e) {
  Decision d;
  d.events.push_back(std::move(e));
  return d;
}

}  // namespace causeway
