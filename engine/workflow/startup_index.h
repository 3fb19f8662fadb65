// StartupIndex: what a start needs from the log, kept as the log is followed
// so that a start reads it instead of scanning the whole log:
//   - the runs that have not ended (run.started / run.restarted without a
//     later run.completed / failed / cancelled; a run's stream is its id);
//   - each workflow's latest workflow.published event, by its place in the
//     log (a start re-reads those events for the trigger index); archived
//     workflows leave it;
//   - the organizations with subscription.* events (the billing timers).
// observe() decides from an event's type, stream and tenant alone (no
// payload). The index covers, per partition, the positions before `next`: an
// event there was observed already and is ignored, so each event counts once,
// in log order, whoever reads it (the start-up scan, the dispatcher's
// follower). The dispatcher keeps it beside its checkpoint; recovery.h reads
// the log from `next` to the head at a start.
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "events/event_log.h"

namespace causeway::workflow {

struct StartupIndex {
  std::vector<std::uint64_t> next;  // per partition: the first position not yet observed
  std::set<std::string> live_runs;
  std::map<std::string, LogAddress> published;  // workflow id -> its latest workflow.published
  std::set<std::string> subscribed;             // organization ids

  // Whether observe() does anything with an event of `type`.
  static bool wants(std::string_view type);
  // An event at `at` (partitions beyond `next` are ignored: the index is for one log).
  void observe(std::string_view type, const std::string& stream, const std::string& tenant, LogAddress at);
  // Every position of `partition` before `next_position` has been read (the
  // events the index does not want included).
  void advance(std::uint32_t partition, std::uint64_t next_position);

  // {"next": [..], "live_runs": [..], "published": [{"workflow_id", "partition",
  // "position"}], "subscribed": [..]}
  boost::json::value to_json() const;
  // nullopt when `v` is not an index of that form for a log of `partitions` partitions.
  static std::optional<StartupIndex> from_json(const boost::json::value& v, std::uint32_t partitions);
};

}  // namespace causeway::workflow
