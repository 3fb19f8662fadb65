// What only the embedded log does: reopening its folder. The EventLog contract
// itself runs against every log in log_contract_test.cpp.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "events/log_helpers.h"
#include "events/rocks/rocks_log.h"
#include "support/temp_dir.h"

using namespace causeway;
using namespace causeway::testing;

namespace {
std::unique_ptr<RocksEventLog> open_log(const std::string& dir, const Clock* clock = nullptr,
                                        std::int64_t retention_us = 3600LL * 1'000'000) {
  RocksLogOptions o;
  o.path = dir;
  o.clock = clock;
  o.idempotency_retention_us = retention_us;
  auto log = RocksEventLog::open(o);
  REQUIRE(log.ok());
  return std::move(log).value();
}
}  // namespace

TEST_CASE("a reopened log resumes at its durable head with the chain intact") {
  TempDir dir;
  Hash head_hash;
  {
    auto log = open_log(dir.str());
    for (int i = 0; i < 5; ++i) REQUIRE(append_sync(*log, commit_of({event_for("s")})).ok());
    head_hash = log->chain_head();
  }
  auto log = open_log(dir.str());
  CHECK(log->head().str() == "5");
  CHECK(log->chain_head() == head_hash);
  auto next = append_sync(*log, commit_of({event_for("s")}, {{"s", 5}}));
  REQUIRE(next.ok());
  auto e = log->read_forward(0, 6, 1);
  REQUIRE(e.ok());
  CHECK((*e)[0].prev_hash == head_hash);
}

TEST_CASE("a counter's value and its idempotency record survive a reopen") {
  TempDir dir;
  Commit c = counted_commit("run-1", 1, 10);
  c.idempotency_key = "k1";
  c.fingerprint = "f";
  c.make_response = [](const Committed& d) { return d.token.str(); };
  {
    auto log = open_log(dir.str());
    REQUIRE(append_sync(*log, c).ok());
  }
  auto log = open_log(dir.str());
  CHECK(*log->counter("usage:org-a:workflow_runs:2026-11") == 1);
  auto again = append_sync(*log, c);
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->response == "1");
  CHECK(*log->counter("usage:org-a:workflow_runs:2026-11") == 1);
}
