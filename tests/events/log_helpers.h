// Helpers for driving an EventLog synchronously in tests.
#pragma once

#include <future>

#include "events/event_log.h"

namespace causeway::testing {

inline Result<Committed> append_sync(EventLog& log, Commit c) {
  std::promise<Result<Committed>> p;
  auto f = p.get_future();
  log.append(std::move(c), [&p](Result<Committed> r) { p.set_value(std::move(r)); });
  return f.get();
}

inline NewEvent event_for(const std::string& stream, const std::string& type = "test.happened",
                          std::string data = R"({"n":1})") {
  NewEvent e;
  e.stream = stream;
  e.id = stream + "-" + type;
  e.type = type;
  e.data = std::move(data);
  e.actor = {"user:test", {}};
  return e;
}

inline Commit commit_of(std::vector<NewEvent> events, std::vector<Expectation> expect = {}) {
  Commit c;
  c.events = std::move(events);
  c.expect = std::move(expect);
  return c;
}

// One event on `stream` that adds `delta` to org-a's workflow_runs counter of
// November 2026, refused past `limit` (-1: no limit), with a plan hint.
inline Commit counted_commit(const std::string& stream, std::int64_t delta, std::int64_t limit) {
  Commit c = commit_of({event_for(stream)});
  c.counters.push_back(CounterAdd{"usage:org-a:workflow_runs:2026-11", delta, limit, "workflow_runs",
                                  R"({"plan":"free"})"});
  return c;
}

}  // namespace causeway::testing
