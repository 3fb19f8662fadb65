// Dry-run: a definition (draft or published) run against an input with mocked
// action outputs and a virtual clock — nothing is written, nothing is sent.
//
// It drives the same interpreter as real runs (interpreter.h), so its events
// are exactly those a real run would record given the same action outcomes
// and event arrivals. The virtual clock starts at `start_us` and jumps to each
// next timer when nothing else can happen, so delays and retry back-offs cost
// nothing.
//
// Mocks, per node id, consumed in order (one per attempt or arrival):
//   action (http, start_workflow): {"output": <value>} or
//                                  {"error_class": "http_5xx", "error": "…"}
//   wait:                          {"payload": <value>} (the event arrives at
//                                  once) or {"timeout": true}
// An action without a mock left succeeds with {"status":200,"body":{},
// "headers":{}} (http) or {"run_id":"dry-run"} and a wait without one times
// out; each such assumption is reported as a warning.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <string>
#include <vector>

#include "engine/workflow/interpreter.h"

namespace causeway::workflow {

struct DryRunEvent {
  std::int64_t at_us = 0;  // on the virtual clock
  std::string type;
  boost::json::object data;
};

struct DryRun {
  std::vector<DryRunEvent> events;
  std::vector<std::string> warnings;
  std::string status;  // completed | failed | cancelled | running (stopped early, or waiting with no timeout)
  std::int64_t ended_at_us = 0;
  run::State state;    // where the run stands at the end: its live nodes...
  run::Context context;  // ...and its context
};

// `max_events` bounds a run that loops (within its max_visits) for long.
// `max_decisions` (0: no bound) stops after that many interpreter decisions
// (the start is the first): a step-by-step preview, one decision at a time.
DryRun dry_run(const Definition& def, const StartInfo& info, std::map<std::string, std::vector<boost::json::object>> mocks,
               std::int64_t start_us, std::size_t max_events = 10'000, std::size_t max_decisions = 0);

}  // namespace causeway::workflow
