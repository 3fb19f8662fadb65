// Building a views generation from the log (a rebuild), while the live one
// keeps answering. Internal to the projection runtime.
//
// build_generation writes generation N+1 with bulk settings (nobody reads it
// yet): the projections in `names`, and any whose stored version differs,
// replayed from position 1 to the head; the others' tables and checkpoints
// copied from the live generation in one read snapshot. It is closed, not
// published: the caller reopens it for serving (open_serving), catches it up,
// seals and publishes it. On failure its file is removed.
#pragma once

#include <atomic>
#include <set>
#include <string>

#include "events/event_log.h"
#include "events/upcast.h"
#include "projections/batch_applier.h"
#include "projections/view_files.h"

namespace causeway {

// `live`: the live generation's path, empty when there is none (everything is
// replayed). `stop` (may be null) abandons the build. Returns the new path.
Result<std::string> build_generation(EventLog& log, const Upcaster& upcaster, const ViewFiles& files,
                                     const std::string& live, std::set<std::string> names, const ProgressFn& progress,
                                     const std::atomic<bool>* stop);

}  // namespace causeway
