// Start-up recovery of the workflow engine, in one pass over the log:
//   - the runs that have not ended (run.started / run.restarted without a
//     later run.completed / failed / cancelled) are kicked, so the executor
//     sends their unanswered attempts again and fires their due timers;
//   - the dispatcher learns every workflow.published / workflow.archived
//     event before the position its subscriptions start from.
// `also` lets another part of the engine learn from the same pass (the
// billing timers: which organizations have subscription events).
// Only those event types are decoded; the rest is skipped from the entry's
// type alone (codec.h peek_entry). Call after Dispatcher::open(), before
// Dispatcher::start() and Executor::start().
#pragma once

#include "engine/workflow/dispatcher.h"
#include "engine/workflow/executor.h"

namespace causeway::workflow {

// Events the start-up pass hands to someone else: `wants` picks them by type
// alone, `visit` gets them decoded.
struct AlsoScan {
  std::function<bool(std::string_view type)> wants;
  std::function<void(const Event&)> visit;
};

Status recover_workflows(EventLog& log, Executor& executor, Dispatcher& dispatcher, const AlsoScan* also = nullptr);

}  // namespace causeway::workflow
