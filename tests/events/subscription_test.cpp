#include <doctest/doctest.h>

#include <condition_variable>
#include <mutex>

#include "events/log_helpers.h"
#include "events/rocks/rocks_log.h"
#include "events/subscription.h"
#include "events/upcast.h"
#include "support/temp_dir.h"

using namespace causeway;
using namespace causeway::testing;

TEST_CASE("a catch-up subscription delivers history, then live events, in order and once") {
  TempDir dir;
  RocksLogOptions o;
  o.path = dir.str();
  auto log = std::move(RocksEventLog::open(o)).value();
  for (int i = 0; i < 3; ++i) REQUIRE(append_sync(*log, commit_of({event_for("s")})).ok());

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::uint64_t> seen;
  CatchUpSubscription sub(*log, 0, 2, [&](const std::vector<Event>& batch) -> Status {
    std::lock_guard lk(mu);
    for (const auto& e : batch) seen.push_back(e.position);
    cv.notify_all();
    return ok_status();
  });
  sub.start();
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return seen.size() == 2; });  // history from position 2
  }
  REQUIRE(append_sync(*log, commit_of({event_for("s"), event_for("t")})).ok());
  {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return seen.size() == 4; });  // woken by the append
  }
  sub.stop();
  CHECK(seen == std::vector<std::uint64_t>{2, 3, 4, 5});
  CHECK(sub.next_position() == 6);
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
