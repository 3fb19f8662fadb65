// LogFollower (events/log_follower.h) on every log: the embedded one and the
// in-memory one with P = 1 and P = 3.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>

#include "events/log_follower.h"
#include "events/log_helpers.h"
#include "events/log_kinds.h"
#include "support/eventually.h"

using namespace causeway;
using namespace causeway::testing;

namespace {

// What a follower's handler saw, per partition, with a bounded wait for it.
class Seen {
 public:
  Status add(std::uint32_t p, const std::vector<Event>& batch) {
    std::lock_guard lk(mu_);
    for (const auto& e : batch) {
      CHECK(e.partition == p);
      positions_[p].push_back(e.position);
      ++count_;
    }
    cv_.notify_all();
    return ok_status();
  }
  bool wait_for_count(std::size_t n, std::chrono::milliseconds limit) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, limit, [&] { return count_ >= n; });
  }
  std::map<std::uint32_t, std::vector<std::uint64_t>> positions() {
    std::lock_guard lk(mu_);
    return positions_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint32_t, std::vector<std::uint64_t>> positions_;
  std::size_t count_ = 0;
};

// Stops `f` without waiting out its poll: stop() joins a thread that sleeps in wait_moved until the log
// moves, so append throwaway events to every partition (each wakes it) until stop() has returned.
void stop_now(LogFollower& f, EventLog& log, std::chrono::milliseconds limit) {
  auto stopped = std::async(std::launch::async, [&] { f.stop(); });
  eventually(
      [&] {
        if (stopped.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready) return true;
        REQUIRE(append_sync(log, commit_of({event_for("wake")})).ok());
        return false;
      },
      limit, "the follower to stop");
}

std::vector<NewEvent> events_on(int first, int count) {
  std::vector<NewEvent> out;
  for (int i = first; i < first + count; ++i) out.push_back(event_for("s-" + std::to_string(i)));
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("a follower delivers history, then live events woken by the append, in each partition's order "
                   "and once",
                   Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
  REQUIRE(append_sync(*log, commit_of(events_on(0, 6))).ok());
  Seen seen;
  // The follower polls every kPoll; the test waits at most kWait (far less) for each delivery, so the
  // live events can arrive in time only through the wake-up the append gives, never through the poll.
  constexpr auto kPoll = std::chrono::seconds(30);
  constexpr auto kWait = std::chrono::seconds(5);
  LogFollower::Options o;
  o.poll = kPoll;
  o.batch = 2;  // several batches per partition
  LogFollower f(*log, PositionToken{}, [&](std::uint32_t p, const std::vector<Event>& b) { return seen.add(p, b); },
                o);
  f.start();
  REQUIRE_MESSAGE(seen.wait_for_count(6, kWait), "the history");
  REQUIRE(append_sync(*log, commit_of(events_on(6, 6))).ok());
  REQUIRE_MESSAGE(seen.wait_for_count(12, kWait),
                  "the live events, woken by the append (the next poll is " << kPoll.count() << " s away)");
  PositionToken past = log->head();
  for (auto& n : past.offsets) n += 1;
  eventually([&] { return f.next() == past; }, kWait, "the follower past the live batch");
  stop_now(f, *log, kWait);
  CHECK_FALSE(f.error().has_value());
  for (const auto& [p, positions] : seen.positions()) {
    CAPTURE(p);
    std::vector<std::uint64_t> expected;
    for (std::uint64_t n = 1; n <= positions.size(); ++n) expected.push_back(n);
    CHECK(positions == expected);  // in order, once, from 1
  }
}

TEST_CASE_TEMPLATE("a follower resumes from a vector checkpoint and follows only the partitions it is given", Kind,
                   LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
  REQUIRE(append_sync(*log, commit_of(events_on(0, 9))).ok());
  const PositionToken head = log->head();
  const std::uint32_t last = log->partitions() - 1;
  // From position 2 of each partition, following the last partition only.
  PositionToken from;
  from.offsets.assign(log->partitions(), 2);
  Seen seen;
  LogFollower::Options o;
  o.partitions = {last};
  LogFollower f(*log, from, [&](std::uint32_t p, const std::vector<Event>& b) { return seen.add(p, b); }, o);
  f.start();
  const std::size_t expected = head.offsets[last] >= 2 ? head.offsets[last] - 1 : 0;
  eventually([&] { return f.next().offsets[last] == std::max<std::uint64_t>(head.offsets[last] + 1, 2); },
             std::chrono::seconds(5), "the followed partition read to its head");
  f.stop();
  auto positions = seen.positions();
  CHECK(positions.size() == (expected > 0 ? 1u : 0u));
  if (expected > 0) CHECK(positions[last].front() == 2);
  for (std::uint32_t p = 0; p < last; ++p) CHECK(f.next().offsets[p] == 2);  // not followed: untouched
}

TEST_CASE_TEMPLATE("a follower stops at a poison batch and keeps the error, never skipping it", Kind, LOG_KINDS) {
  Kind kind;
  auto log = kind.open();
  REQUIRE(append_sync(*log, commit_of({event_for("s")})).ok());
  LogFollower f(*log, PositionToken{},
                [&](std::uint32_t, const std::vector<Event>&) -> Status { return Error::invalid("cannot apply"); });
  f.start();
  eventually([&] { return f.error().has_value(); }, std::chrono::seconds(5), "the follower to stop at the batch");
  f.stop();
  CHECK(f.error()->message == "cannot apply");
  const auto p = log->partition_of("s");
  CHECK(f.next().offsets[p] == 1);  // not past the poison event
}
