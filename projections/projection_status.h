// What the projections report: their state, checkpoint and lag
// (`GET /v1/admin/projections`, `/healthz`, `causeway projections status`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event_log.h"
#include "events/position.h"
#include "projections/projection.h"
#include "projections/view_set.h"

namespace causeway {

enum class ProjectionState {
  running,     // applying the log
  failed,      // stopped by a poison event (error names it); retried at start and rebuild
  rebuilding,  // a rebuild of it is under way; the live rows keep answering
  frozen,      // its stored version or schema differs from the code's: rebuilt at the next start
  missing,     // not in the views database (stored status only: created at the next start)
};
// "running", "failed", "rebuilding", "frozen", "missing".
std::string_view to_string(ProjectionState s);

struct ProjectionStatus {
  std::string name;
  int version = 0;
  ProjectionState state = ProjectionState::running;
  PositionToken checkpoint;
  std::uint64_t lag_events = 0;
  std::int64_t lag_ms = 0;  // age of the oldest event not yet applied, 0 when caught up
  std::string error;        // for failed: names position, event id and type
  std::uint64_t error_position = 0;
};

// The status of a live projection from its track.
ProjectionStatus status_of(const Projection& p, const ProjectionTrack& t, bool rebuilding);

// Fills lag_events from the log's head and, given `now_us` (the injected
// clock's now), lag_ms from the recording time of the oldest event not yet applied.
void add_lag(EventLog& log, std::optional<std::int64_t> now_us, std::vector<ProjectionStatus>& statuses);

}  // namespace causeway
