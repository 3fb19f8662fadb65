// The EventLog contract (events/event_log.h), run against every log: the
// embedded RocksEventLog (P = 1) and the MemoryEventLog with P = 1 and P = 3.
// What only the embedded log does (reopening its folder) is in rocks_log_test.cpp.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <numeric>
#include <thread>

#include "events/log_helpers.h"
#include "events/log_kinds.h"

using namespace causeway;
using namespace causeway::testing;

namespace {

// Events in the log, all partitions together.
std::uint64_t total(const PositionToken& t) { return std::accumulate(t.offsets.begin(), t.offsets.end(), 0ull); }

}  // namespace

TEST_CASE_TEMPLATE("appends get gapless positions in each partition, per-stream versions and one hash chain per "
                   "partition",
                   Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
  const std::uint32_t parts = log->partitions();
  REQUIRE(log->head().offsets.size() == parts);
  std::vector<std::uint64_t> next(parts, 1);
  std::map<std::string, std::uint64_t> versions;
  for (int round = 0; round < 12; ++round) {
    std::vector<NewEvent> events;
    for (int k = 0; k <= round % 3; ++k) events.push_back(event_for("s-" + std::to_string((round + k) % 5)));
    auto names = events;
    auto r = append_sync(*log, commit_of(std::move(events)));
    REQUIRE(r.ok());
    REQUIRE(r->positions.size() == names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto p = log->partition_of(names[i].stream);
      CHECK(r->positions[i] == next[p]++);
      CHECK(r->stream_versions[i] == ++versions[names[i].stream]);
      CHECK(r->token.offsets.at(p) >= r->positions[i]);
    }
  }
  PositionToken expected;
  for (auto n : next) expected.offsets.push_back(n - 1);
  CHECK(log->head() == expected);
  for (std::uint32_t p = 0; p < parts; ++p) {
    auto all = log->read_forward(p, 1, 1000);
    REQUIRE(all.ok());
    REQUIRE(all->size() == next[p] - 1);
    Hash prev{};
    for (std::size_t i = 0; i < all->size(); ++i) {
      CHECK((*all)[i].partition == p);
      CHECK((*all)[i].position == i + 1);
      CHECK((*all)[i].prev_hash == prev);
      prev = (*all)[i].hash;
    }
  }
  auto s1 = log->read_stream("s-1", 1, 100);
  REQUIRE(s1.ok());
  REQUIRE(s1->size() == versions["s-1"]);
  for (std::size_t i = 0; i < s1->size(); ++i) CHECK((*s1)[i].stream_version == i + 1);
}

TEST_CASE_TEMPLATE("an expected-version mismatch is a conflict and writes nothing", Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
  REQUIRE(append_sync(*log, commit_of({event_for("s")}, {{"s", 0}})).ok());
  const auto head = log->head();
  auto r = append_sync(*log, commit_of({event_for("s"), event_for("other")}, {{"s", 0}}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::conflict);
  CHECK(log->head() == head);
  CHECK(*log->stream_version("other") == 0);
  CHECK(append_sync(*log, commit_of({event_for("s")}, {{"s", 1}})).ok());
}

TEST_CASE_TEMPLATE("concurrent writers with the same expected version: exactly one wins", Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
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

TEST_CASE_TEMPLATE("a reservation held by another owner is a conflict naming the field", Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
  Commit a = commit_of({event_for("user-a")});
  a.reservations.push_back({"email:x", "user-a", "/email"});
  REQUIRE(append_sync(*log, std::move(a)).ok());
  CHECK(*log->reservation_owner("email:x") == std::optional<std::string>("user-a"));
  Commit b = commit_of({event_for("user-b")});
  b.reservations.push_back({"email:x", "user-b", "/email"});
  auto r = append_sync(*log, std::move(b));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::conflict);
  CHECK(r.error().pointer == "/email");
  CHECK(*log->stream_version("user-b") == 0);
}

TEST_CASE_TEMPLATE("racing reservations of one value: exactly one owner gets it", Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
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
  CHECK(total(log->head()) == 1);
}

TEST_CASE_TEMPLATE("an idempotency key replays the stored response and writes nothing new", Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
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
  CHECK(first->response == "resp@" + log->head().str());
  const auto head = log->head();
  auto again = append_sync(*log, make("f"));
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->response == first->response);
  CHECK(log->head() == head);
  auto stored = log->idempotent_reply("k1");
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());
  CHECK((*stored)->response == first->response);
  auto other = append_sync(*log, make("g"));
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().code == Errc::invalid);
}

TEST_CASE_TEMPLATE("idempotency keys expire after the retention window", Kind, LOG_KINDS) {
  Kind kind;
  ManualClock clock;
  auto log = kind.open(&clock, 1'000'000);
  Commit c = commit_of({event_for("s")});
  c.idempotency_key = "k";
  c.fingerprint = "f";
  REQUIRE(append_sync(*log, c).ok());
  clock.advance_us(2'000'000);
  CHECK_FALSE(log->idempotent_reply("k")->has_value());
  auto later = append_sync(*log, c);
  REQUIRE(later.ok());
  CHECK_FALSE(later->replayed);
  CHECK(total(log->head()) == 2);
}

TEST_CASE_TEMPLATE("the subject index lists where every event about a subject is", Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
  auto e1 = event_for("a");
  e1.subjects = {"user-1"};
  auto e2 = event_for("b");
  e2.subjects = {"user-2", "user-1"};
  auto e3 = event_for("c");
  auto r = append_sync(*log, commit_of({e1, e2, e3}));
  REQUIRE(r.ok());
  LogAddress a1{log->partition_of("a"), r->positions[0]}, a2{log->partition_of("b"), r->positions[1]};
  CHECK(*log->subject_positions("user-1") == (a1 < a2 ? std::vector{a1, a2} : std::vector{a2, a1}));
  CHECK(*log->subject_positions("user-2") == std::vector{a2});
  CHECK(log->subject_positions("user-3")->empty());
}

TEST_CASE_TEMPLATE("aggregate records are stored with the stream's new version", Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
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

TEST_CASE_TEMPLATE("wait_past returns when an append lands in the partition, and at its timeout otherwise", Kind,
                   LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
  const auto p = log->partition_of("s");
  // Nothing lands: the wait ends at its (short) timeout with the head unchanged.
  CHECK(log->wait_past(p, 0, std::chrono::milliseconds(1)) == 0);
  std::atomic<std::uint64_t> seen{0};
  std::thread waiter([&] { seen = log->wait_past(p, 0, std::chrono::seconds(30)); });
  REQUIRE(append_sync(*log, commit_of({event_for("s")})).ok());
  waiter.join();  // bounded by the 30 s timeout if the wake-up were missing; the CTest timeout is shorter
  CHECK(seen == 1);
}

TEST_CASE_TEMPLATE("a closed log refuses appends as unavailable", Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
  log->close();
  auto r = append_sync(*log, commit_of({event_for("s")}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::unavailable);
}

TEST_CASE_TEMPLATE("racing commits against a counter limit: exactly the limit succeeds and the rest write nothing",
                   Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
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
  CHECK(total(log->head()) == 5);
  auto v = log->counter("usage:org-a:workflow_runs:2026-11");
  REQUIRE(v.ok());
  CHECK(*v == 5);
}

TEST_CASE_TEMPLATE("a refused counter names the metric, the limit, the usage and keeps the caller's hint", Kind,
                   LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
  REQUIRE(append_sync(*log, counted_commit("run-1", 3, 4)).ok());
  auto r = append_sync(*log, counted_commit("run-2", 2, 4));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::limit_exceeded);
  CHECK(r.error().extensions == R"({"plan":"free","metric":"workflow_runs","limit":4,"usage":3})");
  // Without a limit the counter still counts.
  REQUIRE(append_sync(*log, counted_commit("run-3", 2, -1)).ok());
  CHECK(*log->counter("usage:org-a:workflow_runs:2026-11") == 5);
}

TEST_CASE_TEMPLATE("a counter counts a commit once: an idempotent replay adds nothing", Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
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

TEST_CASE_TEMPLATE("a refused commit in a group leaves the commits around it placed", Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
  REQUIRE(append_sync(*log, commit_of({event_for("taken")})).ok());
  // Queued together, so one writer group holds all three.
  std::vector<std::promise<Result<Committed>>> promises(3);
  std::vector<std::future<Result<Committed>>> futures;
  for (auto& p : promises) futures.push_back(p.get_future());
  std::vector<Commit> commits{commit_of({event_for("x")}), commit_of({event_for("taken")}, {{"taken", 0}}),
                              commit_of({event_for("y")})};
  for (std::size_t i = 0; i < commits.size(); ++i)
    log->append(std::move(commits[i]), [&promises, i](Result<Committed> r) { promises[i].set_value(std::move(r)); });
  auto x = futures[0].get(), taken = futures[1].get(), y = futures[2].get();
  CHECK(x.ok());
  REQUIRE_FALSE(taken.ok());
  CHECK(taken.error().code == Errc::conflict);
  CHECK(y.ok());
  CHECK(total(log->head()) == 3);
  CHECK(*log->stream_version("taken") == 1);
}
