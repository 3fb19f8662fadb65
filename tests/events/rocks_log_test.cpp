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

TEST_CASE("appends get gapless positions and per-stream versions") {
  TempDir dir;
  auto log = open_log(dir.str());
  auto a = append_sync(*log, commit_of({event_for("s-1"), event_for("s-2")}));
  REQUIRE(a.ok());
  CHECK(a->positions == std::vector<std::uint64_t>{1, 2});
  CHECK(a->stream_versions == std::vector<std::uint64_t>{1, 1});
  auto b = append_sync(*log, commit_of({event_for("s-1")}));
  REQUIRE(b.ok());
  CHECK(b->positions == std::vector<std::uint64_t>{3});
  CHECK(b->stream_versions == std::vector<std::uint64_t>{2});
  CHECK(b->token.str() == "3");
  CHECK(log->head().str() == "3");
  auto s1 = log->read_stream("s-1", 1, 100);
  REQUIRE(s1.ok());
  REQUIRE(s1->size() == 2);
  CHECK((*s1)[1].position == 3);
  CHECK((*s1)[1].prev_hash == (*log->read_forward(0, 2, 1))[0].hash);
}

TEST_CASE("an expected-version mismatch is a conflict and writes nothing") {
  TempDir dir;
  auto log = open_log(dir.str());
  REQUIRE(append_sync(*log, commit_of({event_for("s")}, {{"s", 0}})).ok());
  auto r = append_sync(*log, commit_of({event_for("s")}, {{"s", 0}}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::conflict);
  CHECK(log->head().str() == "1");
  CHECK(append_sync(*log, commit_of({event_for("s")}, {{"s", 1}})).ok());
}

TEST_CASE("concurrent writers with the same expected version: exactly one wins") {
  TempDir dir;
  auto log = open_log(dir.str());
  std::atomic<int> wins{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&] {
      auto r = append_sync(*log, commit_of({event_for("contended")}, {{"contended", 0}}));
      (r.ok() ? wins : conflicts)++;
    });
  for (auto& t : threads) t.join();
  CHECK(wins == 1);
  CHECK(conflicts == 15);
  CHECK(*log->stream_version("contended") == 1);
}

TEST_CASE("a reservation held by another owner is a conflict naming the field") {
  TempDir dir;
  auto log = open_log(dir.str());
  Commit a = commit_of({event_for("user-a")});
  a.reservations.push_back({"email:x", "user-a", "/email"});
  REQUIRE(append_sync(*log, std::move(a)).ok());
  Commit b = commit_of({event_for("user-b")});
  b.reservations.push_back({"email:x", "user-b", "/email"});
  auto r = append_sync(*log, std::move(b));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::conflict);
  CHECK(r.error().pointer == "/email");
  CHECK(*log->stream_version("user-b") == 0);
}

TEST_CASE("racing reservations of one value: exactly one owner gets it") {
  TempDir dir;
  auto log = open_log(dir.str());
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&, i] {
      std::string owner = "user-" + std::to_string(i);
      Commit c = commit_of({event_for(owner)});
      c.reservations.push_back({"slug:acme", owner, "/slug"});
      if (append_sync(*log, std::move(c)).ok()) ++wins;
    });
  for (auto& t : threads) t.join();
  CHECK(wins == 1);
  CHECK(log->head().str() == "1");
}

TEST_CASE("an idempotency key replays the stored response and writes nothing new") {
  TempDir dir;
  auto log = open_log(dir.str());
  auto make = [](const std::string& fp) {
    Commit c = commit_of({event_for("s")});
    c.idempotency_key = "k1";
    c.fingerprint = fp;
    c.make_response = [](const Committed& d) { return "resp@" + d.token.str(); };
    return c;
  };
  auto first = append_sync(*log, make("f"));
  REQUIRE(first.ok());
  CHECK_FALSE(first->replayed);
  CHECK(first->response == "resp@1");
  auto again = append_sync(*log, make("f"));
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->response == "resp@1");
  CHECK(log->head().str() == "1");
  auto other = append_sync(*log, make("g"));
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().code == Errc::invalid);
}

TEST_CASE("idempotency keys expire after the retention window") {
  TempDir dir;
  ManualClock clock;
  auto log = open_log(dir.str(), &clock, 1'000'000);
  Commit c = commit_of({event_for("s")});
  c.idempotency_key = "k";
  c.fingerprint = "f";
  REQUIRE(append_sync(*log, c).ok());
  clock.advance_us(2'000'000);
  auto later = append_sync(*log, c);
  REQUIRE(later.ok());
  CHECK_FALSE(later->replayed);
  CHECK(log->head().str() == "2");
}

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

TEST_CASE("the subject index lists every event about a subject") {
  TempDir dir;
  auto log = open_log(dir.str());
  auto e1 = event_for("a");
  e1.subjects = {"user-1"};
  auto e2 = event_for("b");
  e2.subjects = {"user-2", "user-1"};
  auto e3 = event_for("c");
  REQUIRE(append_sync(*log, commit_of({e1, e2, e3})).ok());
  CHECK(*log->subject_positions("user-1") == std::vector<std::uint64_t>{1, 2});
  CHECK(*log->subject_positions("user-2") == std::vector<std::uint64_t>{2});
  CHECK(log->subject_positions("user-3")->empty());
}

TEST_CASE("aggregate records are stored with the stream's new version") {
  TempDir dir;
  auto log = open_log(dir.str());
  Commit c = commit_of({event_for("s"), event_for("s")});
  c.aggregates.push_back({"s", 3, "state-bytes"});
  REQUIRE(append_sync(*log, std::move(c)).ok());
  auto snap = log->load_aggregate("s");
  REQUIRE(snap.ok());
  REQUIRE(snap->has_value());
  CHECK((*snap)->version == 2);
  CHECK((*snap)->format == 3);
  CHECK((*snap)->bytes == "state-bytes");
}

TEST_CASE("wait_past wakes a subscriber when an append lands") {
  TempDir dir;
  auto log = open_log(dir.str());
  std::atomic<std::uint64_t> seen{0};
  std::thread waiter([&] { seen = log->wait_past(0, 0, std::chrono::seconds(30)); });
  REQUIRE(append_sync(*log, commit_of({event_for("s")})).ok());
  waiter.join();
  CHECK(seen == 1);
}

TEST_CASE("a closed log refuses appends as unavailable") {
  TempDir dir;
  auto log = open_log(dir.str());
  log->close();
  auto r = append_sync(*log, commit_of({event_for("s")}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::unavailable);
}

namespace {
Commit counted_commit(const std::string& stream, std::int64_t delta, std::int64_t limit) {
  Commit c = commit_of({event_for(stream)});
  c.counters.push_back(CounterAdd{"usage:org-a:workflow_runs:2026-11", delta, limit, "workflow_runs",
                                  R"({"plan":"free"})"});
  return c;
}
}  // namespace

TEST_CASE("racing commits against a counter limit: exactly the limit succeeds and the rest write nothing") {
  TempDir dir;
  auto log = open_log(dir.str());
  std::atomic<int> wins{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&, i] {
      auto r = append_sync(*log, counted_commit("run-" + std::to_string(i), 1, 5));
      if (r.ok()) ++wins;
      else if (r.error().code == Errc::limit_exceeded) ++refused;
    });
  for (auto& t : threads) t.join();
  CHECK(wins == 5);
  CHECK(refused == 11);
  CHECK(log->head().str() == "5");
  auto v = log->counter("usage:org-a:workflow_runs:2026-11");
  REQUIRE(v.ok());
  CHECK(*v == 5);
}

TEST_CASE("a refused counter names the metric, the limit, the usage and keeps the caller's hint") {
  TempDir dir;
  auto log = open_log(dir.str());
  REQUIRE(append_sync(*log, counted_commit("run-1", 3, 4)).ok());
  auto r = append_sync(*log, counted_commit("run-2", 2, 4));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::limit_exceeded);
  CHECK(r.error().extensions == R"({"plan":"free","metric":"workflow_runs","limit":4,"usage":3})");
  // Without a limit the counter still counts.
  REQUIRE(append_sync(*log, counted_commit("run-3", 2, -1)).ok());
  CHECK(*log->counter("usage:org-a:workflow_runs:2026-11") == 5);
}

TEST_CASE("a counter counts a commit once: an idempotent replay adds nothing, and the value survives a reopen") {
  TempDir dir;
  {
    auto log = open_log(dir.str());
    auto make = [] {
      Commit c = counted_commit("run-1", 1, 10);
      c.idempotency_key = "k1";
      c.fingerprint = "f";
      c.make_response = [](const Committed& d) { return d.token.str(); };
      return c;
    };
    REQUIRE(append_sync(*log, make()).ok());
    auto again = append_sync(*log, make());
    REQUIRE(again.ok());
    CHECK(again->replayed);
    CHECK(*log->counter("usage:org-a:workflow_runs:2026-11") == 1);
    CHECK(*log->counter("usage:org-b:workflow_runs:2026-11") == 0);
  }
  auto log = open_log(dir.str());
  CHECK(*log->counter("usage:org-a:workflow_runs:2026-11") == 1);
}
