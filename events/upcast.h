// Upcaster: the one chain that brings old event payloads to their newest version.
//
// Every reader of events (aggregate rebuilds, projections, exports) calls
// upcast() before interpreting a payload, so a payload schema change never
// needs a rewrite of the log. A step turns version N into N + 1 in place.
//
// Thread safety: add() during start-up only; upcast() from any thread after.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include <boost/json/object.hpp>

#include "events/result.h"

namespace causeway {

class Upcaster {
 public:
  using Step = std::function<Status(boost::json::object& data)>;

  void add(const std::string& type, std::uint32_t from_version, Step step);
  // Applies steps from `version` until none is registered; returns the version reached.
  Result<std::uint32_t> upcast(const std::string& type, std::uint32_t version, boost::json::object& data) const;

 private:
  std::map<std::pair<std::string, std::uint32_t>, Step> steps_;
};

}  // namespace causeway
