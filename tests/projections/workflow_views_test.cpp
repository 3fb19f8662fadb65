// The workflow views (projections/views/workflow_views.h) against a real
// embedded log and projection runtime: workflow.* and run.* events in, rows of
// workflows, workflow_versions, workflow_runs and workflow_steps out; sealed
// data never projected; the catalogue's tenant scope; a rebuild from the log
// giving the same rows.
//
// Every append is one commit of one event, so the n-th event has position n and
// occurred_at kT0 + n seconds (at(n)).
#include <algorithm>
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <condition_variable>
#include <fmt/format.h>

#include "events/log_helpers.h"
#include "events/rocks/rocks_log.h"
#include "projections/query.h"
#include "projections/runtime.h"
#include "support/temp_dir.h"
#include "support/views_dump.h"

using namespace causeway;
using namespace causeway::testing;

namespace {

constexpr std::int64_t kT0 = 1'763'800'000'000'000;
const std::string kOrg = fmt::format("org-{:032x}", 1);
const std::string kOther = fmt::format("org-{:032x}", 2);
const std::string kWf = "wf-1";

std::int64_t at(std::uint64_t n) { return kT0 + static_cast<std::int64_t>(n) * 1'000'000; }
std::string us(std::uint64_t n) { return std::to_string(at(n)); }

// A sealed-looking value: the views must never hold it.
constexpr const char* kSealed = R"({"$sealed":"v1","sub":"run-x","ct":"s3cret"})";

struct Harness {
  TempDir dir;
  std::unique_ptr<RocksEventLog> log;
  Upcaster upcaster;
  std::unique_ptr<ProjectionRuntime> rt;
  std::uint64_t last = 0;

  Harness() {
    RocksLogOptions o;
    o.path = dir / "log";
    auto l = RocksEventLog::open(o);
    REQUIRE(l.ok());
    log = std::move(l).value();
  }

  // Appends one event of `org` on `stream`; returns its position.
  std::uint64_t append(const std::string& stream, const std::string& type, const std::string& data,
                       const std::string& org = kOrg, const std::string& actor = "user:test") {
    NewEvent e = event_for(stream, type, data);
    e.id = fmt::format("ev-{}", last + 1);
    e.tenant = org;
    e.actor = {actor, {}};
    e.occurred_at_us = at(last + 1);
    auto c = append_sync(*log, commit_of({std::move(e)}));
    REQUIRE(c.ok());
    REQUIRE(c->positions.back() == last + 1);
    return last = c->positions.back();
  }

  std::uint64_t workflow(const std::string& type, const std::string& fields, const std::string& wf = kWf,
                         const std::string& org = kOrg, const std::string& actor = "user:test") {
    return append("workflow-" + wf, type,
                  fmt::format(R"({{"workflow_id":"{}","org_id":"{}",{}}})", wf, org, fields), org, actor);
  }
  // A run event; `fields` may be empty.
  std::uint64_t run(const std::string& run_id, const std::string& type, const std::string& fields = "",
                    const std::string& org = kOrg) {
    return append("run-" + run_id, type,
                  fmt::format(R"({{"run_id":"{}","org_id":"{}","workflow_id":"{}"{}{}}})", run_id, org, kWf,
                              fields.empty() ? "" : ",", fields),
                  org);
  }
  std::uint64_t started(const std::string& run_id, const std::string& trigger = "manual",
                        const std::string& org = kOrg) {
    return run(run_id, "run.started",
               fmt::format(R"("version":1,"hash":"h1","input":{},"trigger":{{"kind":"{}"}})", kSealed, trigger),
               org);
  }
  std::uint64_t step(const std::string& run_id, const std::string& type, const std::string& node, int attempt = 1,
                     const std::string& more = "") {
    return run(run_id, type,
               fmt::format(R"("node":"{}","visit":1,"attempt":{}{}{})", node, attempt, more.empty() ? "" : ",", more));
  }

  // Starts the runtime if needed and waits until it applied every appended event.
  void sync() {
    if (!rt) {
      ProjectionRuntime::Options o;
      o.data_dir = dir.str();
      o.poll = std::chrono::milliseconds(50);
      auto r = ProjectionRuntime::open(*log, upcaster, o);
      REQUIRE(r.ok());
      rt = std::move(r).value();
      rt->start();
    }
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
      if (rt->applied("workflows").offsets[0] >= last) return;
      REQUIRE(rt->failure("workflows").empty());
      std::unique_lock lk(flag->mu);
      flag->cv.wait_for(lk, std::chrono::milliseconds(100), [&] { return flag->set; });
    }
    FAIL("the workflows projection did not apply every event");
  }

  // The rows of `q`, one "a|b|c" line each, NULL as "NULL".
  std::vector<std::string> rows(const std::string& q) {
    sync();
    ViewFiles files(dir.str());
    auto path = files.current();
    REQUIRE(path.ok());
    auto db = sql::Db::open(*path, sql::Db::Mode::read_only);
    REQUIRE(db.ok());
    auto s = (*db)->prepare(q);
    REQUIRE(s.ok());
    std::vector<std::string> out;
    for (;;) {
      auto r = s->step();
      REQUIRE(r.ok());
      if (!*r) break;
      std::string line;
      for (int i = 0; i < s->columns(); ++i) line += (i ? "|" : "") + (s->is_null(i) ? "NULL" : s->text(i));
      out.push_back(line);
    }
    return out;
  }
  std::string row(const std::string& q) {
    auto r = rows(q);
    REQUIRE(r.size() == 1);
    return r[0];
  }
  std::string run_row(const std::string& run_id, const std::string& columns) {
    return row(fmt::format("SELECT {} FROM workflow_runs WHERE run_id = '{}'", columns, run_id));
  }
};

}  // namespace

TEST_CASE("a workflow goes from draft through published versions to archived") {
  Harness h;
  auto created = h.workflow("workflow.created",
                            R"("name":"Welcome","draft":{"format":1},"draft_hash":"d1","template":"welcome_series")");
  const std::string cols =
      "org_id, name, status, latest_version, draft_hash, public, forked_from_workflow, forked_from_version, template, "
      "created_at, updated_at, position";
  const std::string wf = "SELECT " + cols + " FROM workflows WHERE workflow_id = 'wf-1'";
  CHECK(h.row(wf) == fmt::format("{}|Welcome|draft|NULL|d1|0|NULL|NULL|welcome_series|{}|{}|{}", kOrg, us(created),
                                 us(created), created));

  auto edited =
      h.workflow("workflow.draft_updated", R"("name":"Welcome series","draft":{"format":1},"draft_hash":"d2")");
  CHECK(h.row(wf) == fmt::format("{}|Welcome series|draft|NULL|d2|0|NULL|NULL|welcome_series|{}|{}|{}", kOrg,
                                 us(created), us(edited), edited));

  auto v1 = h.workflow("workflow.published", R"("version":1,"hash":"c1","definition":{"format":1})", kWf, kOrg,
                       "user:alice");
  CHECK(h.row("SELECT status, latest_version, updated_at FROM workflows") == fmt::format("published|1|{}", us(v1)));

  // Editing the draft of a published workflow keeps it published at its version.
  h.workflow("workflow.draft_updated", R"("name":"Welcome series","draft":{"format":1},"draft_hash":"d3")");
  CHECK(h.row("SELECT status, latest_version, draft_hash FROM workflows") == "published|1|d3");

  auto v2 = h.workflow("workflow.published", R"("version":2,"hash":"c2","definition":{"format":1})", kWf, kOrg,
                       "user:bob");
  CHECK(h.rows("SELECT workflow_id, version, org_id, hash, published_at, published_by, position "
               "FROM workflow_versions ORDER BY version") ==
        std::vector<std::string>{fmt::format("wf-1|1|{}|c1|{}|user:alice|{}", kOrg, us(v1), v1),
                                 fmt::format("wf-1|2|{}|c2|{}|user:bob|{}", kOrg, us(v2), v2)});
  CHECK(h.row("SELECT status, latest_version FROM workflows") == "published|2");

  h.workflow("workflow.sharing_changed", R"("public":true)");
  CHECK(h.row("SELECT public FROM workflows") == "1");
  h.workflow("workflow.sharing_changed", R"("public":false)");
  CHECK(h.row("SELECT public FROM workflows") == "0");

  auto archived = h.workflow("workflow.archived", R"("reason":"replaced")");
  CHECK(h.row("SELECT status, latest_version, public, updated_at, position FROM workflows") ==
        fmt::format("archived|2|0|{}|{}", us(archived), archived));

  // A fork names its origin; a never-published workflow has no version row.
  h.workflow("workflow.created",
             R"("name":"Mine","draft":{"format":1},"draft_hash":"d1","forked_from":{"workflow_id":"wf-1","version":2})",
             "wf-2", kOther);
  CHECK(h.row("SELECT org_id, status, latest_version, forked_from_workflow, forked_from_version, template "
              "FROM workflows WHERE workflow_id = 'wf-2'") == kOther + "|draft|NULL|wf-1|2|NULL");
  CHECK(h.rows("SELECT version FROM workflow_versions WHERE workflow_id = 'wf-2'").empty());
}

TEST_CASE("a run goes running, waiting on a delay, running again, completed; sealed data is never projected") {
  Harness h;
  const std::string cols = "status, stuck, current_node, steps, attempts_failed, ended_at";
  auto start = h.started("r1", "event");
  const std::string all =
      "org_id, workflow_id, version, hash, status, stuck, current_node, trigger_kind, started_at, updated_at, "
      "ended_at, last_progress_at, steps, attempts_failed, error_class, error, position";
  CHECK(h.run_row("r1", all) ==
        fmt::format("{0}|wf-1|1|h1|running|0|NULL|event|{1}|{1}|NULL|{1}|0|0|NULL|NULL|{2}", kOrg, us(start), start));

  // The run timeout timer is not a wait.
  h.run("r1", "run.timer_set", R"("node":"","visit":0,"timer":"run_timeout","due_at":1)");
  CHECK(h.run_row("r1", cols) == "running|0|NULL|0|0|NULL");

  h.step("r1", "run.step_scheduled", "welcome");
  h.step("r1", "run.step_started", "welcome", 1, R"("idempotency_key":"r1.welcome.1")");
  h.step("r1", "run.step_succeeded", "welcome", 1, fmt::format(R"("output":{})", kSealed));
  CHECK(h.run_row("r1", cols) == "running|0|welcome|3|0|NULL");

  h.step("r1", "run.step_scheduled", "pause");
  auto timer = h.run("r1", "run.timer_set", R"("node":"pause","visit":1,"timer":"delay","due_at":42)");
  CHECK(h.run_row("r1", cols + ", last_progress_at") == fmt::format("waiting|0|pause|4|0|NULL|{}", us(timer)));

  h.run("r1", "run.timer_fired", R"("node":"pause","visit":1,"timer":"delay")");
  CHECK(h.run_row("r1", cols) == "running|0|pause|4|0|NULL");

  h.run("r1", "run.event_emitted", fmt::format(R"("node":"pause","event_type":"x.done","payload":{})", kSealed));
  h.step("r1", "run.step_succeeded", "pause");
  auto done = h.run("r1", "run.completed");
  CHECK(h.run_row("r1", cols + ", updated_at, position") ==
        fmt::format("completed|0|pause|5|0|{0}|{0}|{1}", us(done), done));

  // Nothing sealed reached any view.
  CHECK(dump_views(h.dir.str()).find("s3cret") == std::string::npos);
}

TEST_CASE("a failing http step retries, waits for its retry timer and fails the run with the error") {
  Harness h;
  h.started("r2");
  h.step("r2", "run.step_scheduled", "hook");
  h.step("r2", "run.step_started", "hook", 1, R"("idempotency_key":"r2.hook.1")");
  h.step("r2", "run.step_failed", "hook", 1, R"("error_class":"http_5xx","error":"503 from hook","retryable":true)");
  CHECK(h.run_row("r2", "status, steps, attempts_failed, error_class") == "running|3|1|NULL");

  h.step("r2", "run.retry_scheduled", "hook", 2, R"("due_at":5000)");
  CHECK(h.run_row("r2", "status") == "waiting");
  h.run("r2", "run.timer_set", R"("node":"hook","visit":1,"timer":"retry","due_at":5000)");
  CHECK(h.run_row("r2", "status, current_node") == "waiting|hook");
  h.run("r2", "run.timer_fired", R"("node":"hook","visit":1,"timer":"retry")");
  CHECK(h.run_row("r2", "status") == "running");

  h.step("r2", "run.step_scheduled", "hook", 2);
  h.step("r2", "run.step_started", "hook", 2, R"("idempotency_key":"r2.hook.1")");
  h.step("r2", "run.step_failed", "hook", 2, R"("error_class":"http_4xx","error":"404 from hook","retryable":false)");
  auto failed = h.run("r2", "run.failed", R"("node":"hook","error_class":"http_4xx","error":"404 from hook")");
  CHECK(h.run_row("r2", "status, current_node, steps, attempts_failed, error_class, error, ended_at") ==
        fmt::format("failed|hook|6|2|http_4xx|404 from hook|{}", us(failed)));

  // The timeline, in log order: one row per run event, the fields it has.
  CHECK(h.rows("SELECT position, org_id, node, visit, attempt, event, at, error_class, error, due_at "
               "FROM workflow_steps WHERE run_id = 'r2' ORDER BY position") ==
        std::vector<std::string>{
            fmt::format("1|{}|NULL|NULL|NULL|started|{}|NULL|NULL|NULL", kOrg, us(1)),
            fmt::format("2|{}|hook|1|1|step_scheduled|{}|NULL|NULL|NULL", kOrg, us(2)),
            fmt::format("3|{}|hook|1|1|step_started|{}|NULL|NULL|NULL", kOrg, us(3)),
            fmt::format("4|{}|hook|1|1|step_failed|{}|http_5xx|503 from hook|NULL", kOrg, us(4)),
            fmt::format("5|{}|hook|1|2|retry_scheduled|{}|NULL|NULL|5000", kOrg, us(5)),
            fmt::format("6|{}|hook|1|NULL|timer_set|{}|NULL|NULL|5000", kOrg, us(6)),
            fmt::format("7|{}|hook|1|NULL|timer_fired|{}|NULL|NULL|NULL", kOrg, us(7)),
            fmt::format("8|{}|hook|1|2|step_scheduled|{}|NULL|NULL|NULL", kOrg, us(8)),
            fmt::format("9|{}|hook|1|2|step_started|{}|NULL|NULL|NULL", kOrg, us(9)),
            fmt::format("10|{}|hook|1|2|step_failed|{}|http_4xx|404 from hook|NULL", kOrg, us(10)),
            fmt::format("11|{}|hook|NULL|NULL|failed|{}|http_4xx|404 from hook|NULL", kOrg, us(11)),
        });
}

TEST_CASE("a run waits for an event, is marked stuck and unstuck by progress, and is cancelled") {
  Harness h;
  h.started("r3");
  h.step("r3", "run.step_scheduled", "wait_payment");
  h.run("r3", "run.event_awaited",
        R"("node":"wait_payment","visit":1,"event_type":"payment.succeeded","correlation":"sub-1")");
  h.run("r3", "run.timer_set", R"("node":"wait_payment","visit":1,"timer":"wait_timeout","due_at":9)");
  CHECK(h.run_row("r3", "status, current_node") == "waiting|wait_payment");
  auto received = h.run("r3", "run.event_received",
                        fmt::format(R"("node":"wait_payment","visit":1,"event_type":"payment.succeeded",)"
                                    R"("event_position":1,"payload":{})",
                                    kSealed));
  CHECK(h.run_row("r3", "status, stuck, last_progress_at") == fmt::format("running|0|{}", us(received)));

  h.step("r3", "run.step_scheduled", "notify_team");
  auto progressed = h.last;
  auto stuck = h.run("r3", "run.marked_stuck", fmt::format(R"("since":{})", at(progressed)));
  CHECK(h.run_row("r3", "status, stuck, current_node, last_progress_at, updated_at, position") ==
        fmt::format("running|1|notify_team|{}|{}|{}", us(progressed), us(stuck), stuck));
  auto started = h.step("r3", "run.step_started", "notify_team");
  CHECK(h.run_row("r3", "stuck, last_progress_at") == fmt::format("0|{}", us(started)));

  auto cancelled = h.run("r3", "run.cancelled", R"("reason":"customer churned")");
  CHECK(h.run_row("r3", "status, stuck, ended_at, error_class") == fmt::format("cancelled|0|{}|NULL", us(cancelled)));
  // A final status stays: a late stuck mark changes nothing but the stamps.
  h.run("r3", "run.marked_stuck", R"("since":0)");
  CHECK(h.run_row("r3", "status, stuck") == "cancelled|0");
  CHECK(h.row("SELECT count(*) FROM workflow_steps WHERE run_id = 'r3'") == "10");
}

TEST_CASE("the workflow views are tenant-scoped, page by their keys, and rebuild from the log to the same rows") {
  Harness h;
  h.workflow("workflow.created", R"("name":"A","draft":{},"draft_hash":"d")", "wf-a", kOrg);
  h.workflow("workflow.published", R"("version":1,"hash":"c","definition":{})", "wf-a", kOrg);
  h.workflow("workflow.created", R"("name":"B","draft":{},"draft_hash":"d")", "wf-b", kOther);
  h.started("ra1");
  h.started("rb1", "schedule", kOther);
  h.started("ra2");
  h.step("ra1", "run.step_scheduled", "n1");
  h.run("ra1", "run.completed");
  h.run("rb1", "run.failed", R"("node":"","error_class":"timeout","error":"run timed out")", kOther);
  CHECK(h.run_row("rb1", "status, current_node, error_class, error") == "failed|NULL|timeout|run timed out");

  ViewFiles files(h.dir.str());
  {
    auto path = files.current();
    REQUIRE(path.ok());
    auto db = sql::Db::open(*path, sql::Db::Mode::read_only);
    REQUIRE(db.ok());
    // The first column of each row, or `column` when named.
    auto ids = [&](const char* view, const std::string& tenant, std::size_t limit, const std::string& cursor = "",
                   const std::string& column = "") {
      ListRequest req;
      req.view = find_view(view);
      REQUIRE(req.view != nullptr);
      req.tenant = tenant;
      req.limit = limit;
      req.cursor = cursor;
      auto page = list_view(**db, req, nullptr);
      REQUIRE(page.ok());
      std::vector<std::string> out;
      const auto at = std::find(page->columns.begin(), page->columns.end(), column);
      const std::size_t i = column.empty() ? 0 : static_cast<std::size_t>(at - page->columns.begin());
      for (const auto& r : page->rows) out.push_back(boost::json::serialize(r.at(i)));
      return std::make_pair(out, page->next_cursor);
    };
    CHECK(ids("workflows", kOrg, 10).first == std::vector<std::string>{R"("wf-a")"});
    CHECK(ids("workflow_versions", kOther, 10).first.empty());
    CHECK(ids("workflow_runs", kOrg, 10).first == std::vector<std::string>{R"("ra1")", R"("ra2")"});
    CHECK(ids("workflow_runs", kOther, 10).first == std::vector<std::string>{R"("rb1")"});
    // workflow_steps pages by position: ra1 started (4), ra2 started (6), ra1's step (7), ra1 completed (8).
    auto first = ids("workflow_steps", kOrg, 3, "", "position");
    CHECK(first.first == std::vector<std::string>{"4", "6", "7"});
    REQUIRE_FALSE(first.second.empty());
    auto second = ids("workflow_steps", kOrg, 3, first.second, "position");
    CHECK(second.first == std::vector<std::string>{"8"});
    CHECK(second.second.empty());
    for (const char* view : {"workflows", "workflow_versions", "workflow_runs", "workflow_steps"}) {
      CAPTURE(view);
      const ViewDef* v = find_view(view);
      REQUIRE(v != nullptr);
      CHECK(v->projection == "workflows");
      CHECK(v->scope == "org_id = :tenant");
      CHECK(v->roles == std::vector<std::string>{"owner", "admin", "member", "analyst"});
    }
  }

  // Every other rule once more, so the rebuild replays each of them.
  h.workflow("workflow.draft_updated", R"("name":"A2","draft":{},"draft_hash":"d2")", "wf-a", kOrg);
  h.workflow("workflow.sharing_changed", R"("public":true)", "wf-a", kOrg);
  h.workflow("workflow.archived", R"("reason":"old")", "wf-a", kOrg);
  h.step("ra2", "run.step_scheduled", "pause");
  h.run("ra2", "run.timer_set", R"("node":"pause","visit":1,"timer":"delay","due_at":7)");
  h.run("ra2", "run.timer_fired", R"("node":"pause","visit":1,"timer":"delay")");
  h.run("ra2", "run.marked_stuck", R"("since":1)");
  h.run("ra2", "run.event_awaited", R"("node":"w","visit":1,"event_type":"x.y","correlation":"c")");
  h.run("ra2", "run.event_received", R"("node":"w","visit":1,"event_type":"x.y","event_position":1,"payload":{})");
  h.step("ra2", "run.step_failed", "hook", 1, R"("error_class":"timeout","error":"slow","retryable":true)");
  h.step("ra2", "run.retry_scheduled", "hook", 2, R"("due_at":8)");
  h.run("ra2", "run.cancelled", R"("reason":"stop")");
  CHECK(h.run_row("ra2", "status, steps, attempts_failed") == "cancelled|2|1");

  h.rt.reset();
  const std::string live = dump_views(h.dir.str());
  CHECK(live.find("== workflow_steps") != std::string::npos);
  REQUIRE(files.lock_writer().ok());
  REQUIRE(ProjectionRuntime::rebuild_offline(*h.log, h.upcaster, h.dir.str(), {"workflows"}, nullptr).ok());
  CHECK(dump_views(h.dir.str()) == live);
}
