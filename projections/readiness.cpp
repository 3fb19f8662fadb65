#include "projections/readiness.h"

namespace causeway {

Readiness readiness(const PositionToken& startup_head, const PositionToken& applied,
                    const std::vector<ProjectionStatus>& status) {
  for (const auto& p : status)
    if (p.state == ProjectionState::failed) return {false, "the projection " + p.name + " stopped on a failure"};
  if (!applied.covers(startup_head))
    return {false, "the views have applied position " + applied.str() + " of the " + startup_head.str() +
                       " the log held at start-up"};
  return {true, {}};
}

}  // namespace causeway
