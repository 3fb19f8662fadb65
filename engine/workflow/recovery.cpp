#include "engine/workflow/recovery.h"

#include <limits>
#include <set>

#include "events/codec.h"

namespace causeway::workflow {

Status recover_workflows(EventLog& log, Executor& executor, Dispatcher& dispatcher, const AlsoScan* also) {
  std::set<std::string> live;
  for (std::uint32_t p = 0; p < log.partitions(); ++p) {
    const std::uint64_t indexed_before = dispatcher.start_of(p);
    Status failure = ok_status();
    auto st = log.scan_raw(p, 1, std::numeric_limits<std::uint64_t>::max(),
                           [&](std::uint64_t position, std::string_view bytes) {
                             auto links = peek_entry(bytes, HashCheck::trust);
                             if (!links) {
                               failure = links.error();
                               return false;
                             }
                             const std::string_view t = links->type;
                             const bool begins = t == "run.started" || t == "run.restarted";
                             const bool ends = t == "run.completed" || t == "run.failed" || t == "run.cancelled";
                             const bool workflow = (t == "workflow.published" || t == "workflow.archived") &&
                                                   position < indexed_before;
                             const bool other = also && also->wants(t);
                             if (!begins && !ends && !workflow && !other) return true;
                             auto e = decode_entry(bytes, HashCheck::trust);
                             if (!e) {
                               failure = e.error();
                               return false;
                             }
                             if (other) also->visit(*e);
                             if (workflow) dispatcher.learn(*e);
                             else if (begins) live.insert(e->stream);  // run streams are named by the run id
                             else if (ends) live.erase(e->stream);
                             return true;
                           });
    if (!st) return st;
    if (!failure) return failure;
  }
  for (const auto& id : live) executor.kick(id);
  return ok_status();
}

}  // namespace causeway::workflow
