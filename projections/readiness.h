// Readiness of the read side (GET /readyz): whether a server that just
// started serves reads that include everything the log held at start-up.
// Liveness is /healthz; readiness can be false while the server is alive.
//
// Ready when every projection has applied the log up to `startup_head` (the
// log's head when the server started) and none has stopped on a failure. A
// pure function of what the runtime reports, so it is tested without one.
#pragma once

#include <string>
#include <vector>

#include "events/position.h"
#include "projections/runtime.h"

namespace causeway {

struct Readiness {
  bool ready = false;
  std::string reason;  // why not ready, in words (empty when ready)
};

// `applied`: ProjectionRuntime::applied() (all projections, the minimum);
// `status`: ProjectionRuntime::status().
Readiness readiness(const PositionToken& startup_head, const PositionToken& applied,
                    const std::vector<ProjectionStatus>& status);

}  // namespace causeway
