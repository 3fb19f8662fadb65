#include "engine/workflow/recovery.h"

#include <limits>

#include "events/codec.h"

namespace causeway::workflow {

namespace {

// The dispatcher learns the workflows the restored index names (all before its checkpoint).
Status read_back_published(EventLog& log, Dispatcher& dispatcher, RecoveryReport& report) {
  for (const auto& [id, at] : dispatcher.startup_index().published) {
    auto e = log.read_forward(at.partition, at.position, 1);
    if (!e) return std::move(e).error();
    if (e->empty() || e->front().type != "workflow.published" || e->front().stream != id)
      return Error::corruption("the workflow start-up index names " + id + " at a position that does not publish it");
    dispatcher.learn(e->front());
    ++report.read_back;
  }
  return ok_status();
}

// Scans partition `p` from `from` to its head into the dispatcher's index; a
// workflow event before the dispatcher's checkpoint is learned (its follower
// handles the ones after).
Status scan(EventLog& log, Dispatcher& dispatcher, std::uint32_t p, std::uint64_t from, RecoveryReport& report) {
  const std::uint64_t indexed_before = dispatcher.start_of(p);
  std::uint64_t next = from;
  Status failure = ok_status();
  auto st = log.scan_raw(p, from, std::numeric_limits<std::uint64_t>::max(),
                         [&](std::uint64_t position, std::string_view bytes) {
                           ++report.scanned;
                           next = position + 1;
                           auto links = peek_entry(bytes, HashCheck::trust);
                           if (!links) {
                             failure = links.error();
                             return false;
                           }
                           if (!StartupIndex::wants(links->type)) return true;
                           auto e = decode_entry(bytes, HashCheck::trust);
                           if (!e) {
                             failure = e.error();
                             return false;
                           }
                           dispatcher.note(e->type, e->stream, e->tenant, {p, position});
                           const bool workflow = e->type == "workflow.published" || e->type == "workflow.archived";
                           if (workflow && position < indexed_before) dispatcher.learn(*e);
                           return true;
                         });
  if (!st) return st;
  if (!failure) return failure;
  dispatcher.note_read(p, next);
  return ok_status();
}

}  // namespace

Result<RecoveryReport> recover_workflows(EventLog& log, Executor& executor, Dispatcher& dispatcher) {
  RecoveryReport report;
  report.from_index = dispatcher.restored_index();
  if (report.from_index)
    if (auto st = read_back_published(log, dispatcher, report); !st) return std::move(st).error();
  for (std::uint32_t p = 0; p < log.partitions(); ++p)
    if (auto st = scan(log, dispatcher, p, dispatcher.startup_index().next.at(p), report); !st)
      return std::move(st).error();
  dispatcher.index_ready();
  for (const auto& id : dispatcher.startup_index().live_runs) executor.kick(id);
  return report;
}

}  // namespace causeway::workflow
