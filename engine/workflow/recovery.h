// Start-up recovery of the workflow engine, from the dispatcher's start-up
// index (startup_index.h) and the log after it:
//   - with an index restored from beside the dispatcher's checkpoint, only the
//     log after what the index covers is read (what a start costs does not
//     grow with the log), and each published workflow the index names is read
//     back from its place in the log for the trigger index;
//   - without one (a first start, a checkpoint of an earlier release), one
//     pass over the whole log builds it, the dispatcher learning every
//     workflow.published / workflow.archived event before its checkpoint.
// Then the runs that have not ended are kicked, so the executor sends their
// unanswered attempts again and fires their due timers. The index's
// `subscribed` organizations are for the billing timers. Only the event types
// the index wants are decoded; the rest is skipped from the entry's type
// alone (codec.h peek_entry). Call after Dispatcher::open(), before
// Dispatcher::start() and Executor::start().
#pragma once

#include "engine/workflow/dispatcher.h"
#include "engine/workflow/executor.h"

namespace causeway::workflow {

// What a start read: the events of the log's tail or whole (scanned), and the
// published workflows read back from the index's addresses.
struct RecoveryReport {
  bool from_index = false;
  std::uint64_t scanned = 0;
  std::uint64_t read_back = 0;
};

Result<RecoveryReport> recover_workflows(EventLog& log, Executor& executor, Dispatcher& dispatcher);

}  // namespace causeway::workflow
