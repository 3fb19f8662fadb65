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

}  // namespace causeway::testing
