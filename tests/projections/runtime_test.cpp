// The projection runtime against a real embedded log: exactly-once effect,
// poison events, version-triggered rebuilds and generation swaps.
#include <doctest/doctest.h>

#include <condition_variable>
#include <map>
#include <set>
#include <fmt/format.h>

#include "events/rocks/rocks_log.h"
#include "events/log_helpers.h"
#include "projections/read_pool.h"
#include "projections/runtime.h"
#include "support/temp_dir.h"
#include "support/views_dump.h"

using namespace causeway;
using namespace causeway::testing;

namespace {

struct Harness {
  TempDir dir;
  std::unique_ptr<RocksEventLog> log;
  Upcaster upcaster;
  std::unique_ptr<ProjectionRuntime> rt;
  std::size_t batch = 1024;

  Harness() { open_log(); }
  void open_log() {
    RocksLogOptions o;
    o.path = dir / "log";
    auto l = RocksEventLog::open(o);
    REQUIRE(l.ok());
    log = std::move(l).value();
  }
  void start() {
    ProjectionRuntime::Options o;
    o.data_dir = dir.str();
    o.poll = std::chrono::milliseconds(50);
    o.batch = batch;
    auto r = ProjectionRuntime::open(*log, upcaster, o);
    REQUIRE(r.ok());
    rt = std::move(r).value();
    rt->start();
  }
  void stop() { rt.reset(); }

  std::uint64_t append(NewEvent e) {
    auto c = append_sync(*log, commit_of({std::move(e)}));
    REQUIRE(c.ok());
    return c->positions.back();
  }
  std::uint64_t org_created(int n) {
    std::string org = fmt::format("org-{:032x}", n);
    NewEvent e = event_for(org, "organization.created",
                           fmt::format(R"({{"org_id":"{}","slug":"s{}","name":"Org {}","owner_user_id":"user-{:032x}"}})",
                                       org, n, n, n));
    e.tenant = org;
    e.id = fmt::format("{:032x}", 1000 + n);
    return append(std::move(e));
  }
  std::uint64_t user_signed_up(const std::string& stream, const std::string& user_id) {
    NewEvent e = event_for(stream, "user.signed_up",
                           R"({"user_id":")" + user_id + R"(","email":"x","display_name":"y","password_hash":"z"})");
    e.id = stream + "-signup";
    return append(std::move(e));
  }

  // Waits, without sleeping, until `pred` holds: each committed batch or
  // generation switch wakes it (the 100 ms cap only bounds a missed wake-up).
  template <class Pred>
  void wait_for(Pred pred) {
    struct Flag {
      std::mutex mu;
      std::condition_variable cv;
      bool set = false;
    };
    for (int round = 0; round < 600; ++round) {
      auto flag = std::make_shared<Flag>();
      rt->notify_once([flag] {
        std::lock_guard lk(flag->mu);
        flag->set = true;
        flag->cv.notify_all();
      });
      if (pred()) return;
      std::unique_lock lk(flag->mu);
      flag->cv.wait_for(lk, std::chrono::milliseconds(100), [&] { return flag->set; });
    }
    FAIL("the runtime did not reach the expected state");
  }
  void wait_applied(std::uint64_t position) {
    wait_for([&] { return rt->applied().offsets[0] >= position; });
  }
};

}  // namespace

TEST_CASE("each event takes effect exactly once, across a restart of the runtime") {
  Harness h;
  for (int i = 1; i <= 40; ++i) h.org_created(i);
  h.start();
  h.wait_applied(40);
  h.stop();
  for (int i = 41; i <= 60; ++i) h.org_created(i);
  h.start();
  h.wait_applied(60);
  h.stop();
  CHECK(views_scalar(h.dir.str(), "SELECT count(*) FROM audit_index") == 60);
  CHECK(views_scalar(h.dir.str(), "SELECT count(*) FROM organizations") == 60);
  CHECK(views_scalar(h.dir.str(), "SELECT sum(count) FROM usage_meters WHERE metric = 'events'") == 60);
  CHECK(views_scalar(h.dir.str(), "SELECT min(position) FROM _checkpoints") == 60);
}

TEST_CASE("usage meters gathered per batch equal the event-by-event counts, distinct values across batches included") {
  Harness h;
  h.batch = 7;  // batches that split tenants, actors and streams at odd places
  struct Expected {
    std::int64_t count = 0, sum = 0;
    std::set<std::string> values;
  };
  std::map<std::pair<std::string, std::string>, Expected> expected;  // (tenant, metric)
  std::uint64_t last = 0;
  auto append_range = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      const std::string tenant = fmt::format("org-{}", i % 3);
      NewEvent e = event_for(fmt::format("s-{}", i % 5), i % 2 ? "test.a" : "test.b",
                             fmt::format(R"({{"n":{},"pad":"{}"}})", i, std::string(static_cast<std::size_t>(i % 4), 'x')));
      e.id = fmt::format("usage-{}", i);
      e.tenant = tenant;
      e.actor = {fmt::format("user:{}", i % 4), {}};
      for (const std::string& metric : {std::string("events"), e.type}) {
        auto& x = expected[{tenant, metric}];
        x.count += 1;
        x.sum += static_cast<std::int64_t>(e.data.size());
        x.values.insert(metric == "events" ? e.actor.id : e.stream);
      }
      last = h.append(std::move(e));
    }
  };
  append_range(0, 50);
  h.start();
  h.wait_applied(last);
  h.stop();
  append_range(50, 71);
  h.start();
  h.wait_applied(last);
  h.stop();
  CHECK(views_scalar(h.dir.str(), "SELECT count(*) FROM usage_meters") == static_cast<std::int64_t>(expected.size()));
  for (const auto& [key, x] : expected) {
    const auto where = fmt::format("FROM usage_meters WHERE tenant = '{}' AND metric = '{}'", key.first, key.second);
    CAPTURE(where);
    CHECK(views_scalar(h.dir.str(), "SELECT count " + where) == x.count);
    CHECK(views_scalar(h.dir.str(), "SELECT sum " + where) == x.sum);
    CHECK(views_scalar(h.dir.str(), "SELECT unique_count " + where) == static_cast<std::int64_t>(x.values.size()));
  }
}

TEST_CASE("a poison event stops only its projection, names position, event and type, and is never skipped") {
  Harness h;
  h.user_signed_up("user-a", "user-dup");
  std::uint64_t poison = h.user_signed_up("user-b", "user-dup");  // same primary key: the insert fails
  std::uint64_t after = h.org_created(1);
  h.start();
  h.wait_for([&] { return h.rt->applied("audit").offsets[0] >= after && !h.rt->failure("users").empty(); });
  std::string why = h.rt->failure("users");
  CHECK(why.find(fmt::format("position {}", poison)) != std::string::npos);
  CHECK(why.find("user-b-signup") != std::string::npos);
  CHECK(why.find("user.signed_up") != std::string::npos);
  CHECK(h.rt->applied("users").offsets[0] == poison - 1);
  CHECK(h.rt->applied("organizations").offsets[0] == after);
  bool reported = false;
  for (const auto& s : h.rt->status())
    if (s.name == "users") reported = s.state == ProjectionState::failed && s.error_position == poison;
  CHECK(reported);
  h.stop();
  // After a restart it retries from its checkpoint and stops at the same event again.
  h.start();
  h.wait_for([&] { return !h.rt->failure("users").empty(); });
  CHECK(h.rt->applied("users").offsets[0] == poison - 1);
  CHECK(views_scalar(h.dir.str(), "SELECT count(*) FROM users") == 1);
}

TEST_CASE("a projection whose stored version differs is rebuilt at start and ends equal to the live rows") {
  Harness h;
  for (int i = 1; i <= 30; ++i) h.org_created(i);
  h.start();
  h.wait_applied(30);
  h.stop();
  const std::string before = dump_views(h.dir.str());
  {
    ViewFiles files(h.dir.str());
    auto db = sql::Db::open(*files.current(), sql::Db::Mode::read_write_create);
    REQUIRE(db.ok());
    REQUIRE((*db)->exec("UPDATE _projections SET version = 0 WHERE name = 'usage'").ok());
  }
  h.start();
  h.wait_for([&] {
    if (h.rt->rebuilding()) return false;
    for (const auto& s : h.rt->status())
      if (s.state != ProjectionState::running) return false;
    return true;
  });
  h.stop();
  CHECK(dump_views(h.dir.str()) == before);
}

TEST_CASE("an online rebuild publishes an equal generation while readers of the old one keep reading") {
  Harness h;
  for (int i = 1; i <= 25; ++i) h.org_created(i);
  h.start();
  h.wait_applied(25);
  const std::string before = dump_views(h.dir.str());
  ReadPool pool(h.dir.str());
  auto old_lease = pool.acquire();
  REQUIRE(old_lease.ok());
  const std::string old_path = (*old_lease)->path();
  REQUIRE(h.rt->request_rebuild({}).ok());
  CHECK(h.rt->request_rebuild({}).error().code == Errc::conflict);
  h.wait_for([&] { return !h.rt->rebuilding() && *pool.current() != old_path; });
  CHECK(dump_views(h.dir.str()) == before);
  // The replaced generation still answers its reader; it is removed at the next switch or start.
  auto count = (*old_lease)->prepare("SELECT count(*) FROM organizations");
  REQUIRE(count.ok());
  REQUIRE(*count->step());
  CHECK(count->i64(0) == 25);
  // New events land in the new generation.
  std::uint64_t last = h.org_created(26);
  h.wait_applied(last);
  h.stop();
  CHECK(views_scalar(h.dir.str(), "SELECT count(*) FROM organizations") == 26);
  h.start();  // a start removes every generation but the current one
  CHECK_FALSE(std::filesystem::exists(old_path));
}

TEST_CASE("rebuilding an unknown projection is refused") {
  Harness h;
  h.start();
  CHECK(h.rt->request_rebuild({"nope"}).error().code == Errc::not_found);
}

TEST_CASE("an offline rebuild replays the log into views equal to the ones built live") {
  Harness h;
  for (int i = 1; i <= 20; ++i) h.org_created(i);
  h.user_signed_up("user-x", "user-x");
  h.start();
  h.wait_applied(21);
  h.stop();
  const std::string live = dump_views(h.dir.str());
  ViewFiles files(h.dir.str());
  REQUIRE(files.lock_writer().ok());
  std::uint64_t seen = 0;
  auto st = ProjectionRuntime::rebuild_offline(*h.log, h.upcaster, h.dir.str(), {},
                                               [&](std::uint64_t done, std::uint64_t) { seen = done; });
  REQUIRE(st.ok());
  CHECK(seen == 21);
  CHECK(dump_views(h.dir.str()) == live);
}

TEST_CASE("a second writer of the same views is refused while the first holds them") {
  Harness h;
  h.start();
  ViewFiles other(h.dir.str());
  CHECK(other.lock_writer().error().code == Errc::conflict);
}

TEST_CASE("stop joins a running rebuild, and a rebuild requested once the runtime stopped is refused, leaving none") {
  Harness h;
  for (int i = 1; i <= 20; ++i) h.org_created(i);
  h.start();
  h.wait_applied(20);
  REQUIRE(h.rt->request_rebuild({}).ok());
  h.stop();  // joins the rebuilder, wherever it was
  h.start();
  h.wait_applied(20);
  h.rt->stop();
  auto late = h.rt->request_rebuild({"organizations"});
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == Errc::unavailable);
  CHECK_FALSE(h.rt->rebuilding());
}
