// Start-up recovery of the workflow engine, in one pass over the log:
//   - the runs that have not ended (run.started / run.restarted without a
//     later run.completed / failed / cancelled) are kicked, so the executor
//     sends their unanswered attempts again and fires their due timers;
//   - the dispatcher learns every workflow.published / workflow.archived
//     event before the position its subscriptions start from.
// Only those event types are decoded; the rest is skipped from the entry's
// type alone (codec.h peek_entry). Call after Dispatcher::open(), before
// Dispatcher::start() and Executor::start().
#pragma once

#include "engine/workflow/dispatcher.h"
#include "engine/workflow/executor.h"

namespace causeway::workflow {

Status recover_workflows(EventLog& log, Executor& executor, Dispatcher& dispatcher);

}  // namespace causeway::workflow
