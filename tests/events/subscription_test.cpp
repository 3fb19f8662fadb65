#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

#include "events/log_helpers.h"
#include "events/rocks/rocks_log.h"
#include "events/subscription.h"
#include "events/upcast.h"
#include "support/eventually.h"
#include "support/temp_dir.h"

using namespace causeway;
using namespace causeway::testing;

namespace {
// Stops `sub` without waiting out its poll: stop() joins a thread that sleeps in wait_past until the log
// moves, so append throwaway events (each wakes it) until stop() has returned, within `limit`.
void stop_now(CatchUpSubscription& sub, EventLog& log, std::chrono::milliseconds limit) {
  auto stopped = std::async(std::launch::async, [&] { sub.stop(); });
  eventually(
      [&] {
        if (stopped.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready) return true;
        REQUIRE(append_sync(log, commit_of({event_for("wake")})).ok());
        return false;
      },
      limit, "the subscription to stop");
}
}  // namespace

TEST_CASE("a catch-up subscription delivers history, then live events, in order and once") {
  TempDir dir;
  RocksLogOptions o;
  o.path = dir.str();
  auto log = std::move(RocksEventLog::open(o)).value();
  for (int i = 0; i < 3; ++i) REQUIRE(append_sync(*log, commit_of({event_for("s")})).ok());

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::uint64_t> seen;
  // The subscription polls every kPoll; the test waits at most kWait (far less) for each delivery, so the
  // live events can arrive in time only through the wake-up the append gives, never through the poll.
  constexpr auto kPoll = std::chrono::seconds(30);
  constexpr auto kWait = std::chrono::seconds(5);
  CatchUpSubscription sub(
      *log, 0, 2,
      [&](const std::vector<Event>& batch) -> Status {
        std::lock_guard lk(mu);
        for (const auto& e : batch) seen.push_back(e.position);
        cv.notify_all();
        return ok_status();
      },
      512, kPoll);
  sub.start();
  {
    std::unique_lock lk(mu);
    REQUIRE_MESSAGE(cv.wait_for(lk, kWait, [&] { return seen.size() == 2; }), "history from position 2");
  }
  REQUIRE(append_sync(*log, commit_of({event_for("s"), event_for("t")})).ok());
  {
    std::unique_lock lk(mu);
    REQUIRE_MESSAGE(cv.wait_for(lk, kWait, [&] { return seen.size() == 4; }),
                    "the live events, woken by the append (the next poll is " << kPoll.count() << " s away)");
  }
  // The handler notifies before the subscription moves past the batch: wait for that, then check.
  eventually([&] { return sub.next_position() == 6; }, kWait, "the subscription past the live batch");
  {
    std::lock_guard lk(mu);
    CHECK(seen == std::vector<std::uint64_t>{2, 3, 4, 5});
  }
  CHECK_FALSE(sub.error().has_value());
  stop_now(sub, *log, kWait);
  CHECK_FALSE(sub.error().has_value());
}

TEST_CASE("a subscription stops at a poison batch and keeps the error, never skipping it") {
  TempDir dir;
  RocksLogOptions o;
  o.path = dir.str();
  auto log = std::move(RocksEventLog::open(o)).value();
  REQUIRE(append_sync(*log, commit_of({event_for("s")})).ok());
  std::mutex mu;
  std::condition_variable cv;
  bool failed = false;
  CatchUpSubscription sub(*log, 0, 1, [&](const std::vector<Event>&) -> Status {
    std::lock_guard lk(mu);
    failed = true;
    cv.notify_all();
    return Error::invalid("cannot apply");
  });
  sub.start();
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return failed; });
  }
  sub.stop();
  REQUIRE(sub.error().has_value());
  CHECK(sub.error()->message == "cannot apply");
  CHECK(sub.next_position() == 1);
}

TEST_CASE("the upcaster chain brings an old payload to the newest version step by step") {
  Upcaster up;
  up.add("user.signed_up", 1, [](boost::json::object& d) -> Status {
    d["name"] = d["display_name"];
    d.erase("display_name");
    return ok_status();
  });
  up.add("user.signed_up", 2, [](boost::json::object& d) -> Status {
    d["locale"] = "en";
    return ok_status();
  });
  boost::json::object data{{"display_name", "Ann"}};
  auto v = up.upcast("user.signed_up", 1, data);
  REQUIRE(v.ok());
  CHECK(*v == 3);
  CHECK(data.at("name").as_string() == "Ann");
  CHECK(data.at("locale").as_string() == "en");
  boost::json::object other{{"x", 1}};
  CHECK(*up.upcast("organization.created", 1, other) == 1);
}
