// views_rebuild: full rebuild of the usage and audit views from the log
// (ProjectionRuntime::rebuild_offline: read, decode, upcast, apply, checkpoint,
// sync, publish) against raw SQLite inserts of the same rows, with the same
// schema, statements, bulk settings and batch size, from events already in
// memory — the ceiling of what the rebuild writes.
#include <fmt/format.h>

#include <cmath>
#include <future>
#include <stdexcept>

#include "bench/benches.h"
#include "events/rocks/rocks_log.h"
#include "projections/projection.h"
#include "projections/runtime.h"
#include "projections/sqlite.h"

namespace causeway::bench {
namespace {

void must(const Status& st, const char* what) {
  if (!st) throw std::runtime_error(fmt::format("{}: {}", what, st.error().message));
}

// Tenants, actors and types vary so the meters see realistic key spread.
NewEvent view_event(std::uint64_t seq, std::size_t payload) {
  NewEvent e = make_event(fmt::format("org-{:032x}", seq % 1000), seq, payload);
  e.tenant = e.stream;
  e.actor = Actor{fmt::format("user-{:032x}", seq % 5000), {}};
  static const char* types[] = {"workflow.run_started", "workflow.step_succeeded", "workflow.run_completed"};
  e.type = types[seq % 3];
  e.occurred_at_us += static_cast<std::int64_t>(seq % 90) * 86'400'000'000LL;  // three months
  return e;
}

// The rows the usage and audit projections write, by hand.
double raw_inserts(const std::string& path, const std::vector<Event>& events) {
  auto db = sql::Db::open(path, sql::Db::Mode::read_write_create);
  if (!db) throw std::runtime_error(db.error().message);
  must((*db)->exec("PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; "
                   "PRAGMA temp_store=MEMORY; PRAGMA main.locking_mode=EXCLUSIVE;"),
       "pragmas");
  must((*db)->exec(std::string(embedded_view_sql("usage")) + std::string(embedded_view_sql("audit"))), "schema");
  auto audit = (*db)->prepare(
      "INSERT INTO audit_index(position, time, tenant, actor, impersonator, action, target, subject, event_id) "
      "VALUES (?,?,?,?,?,?,?,?,?)");
  auto uniq = (*db)->prepare("INSERT OR IGNORE INTO usage_uniques(tenant, metric, month, value) VALUES (?,?,?,?)");
  auto meter = (*db)->prepare(
      "INSERT INTO usage_meters(tenant, metric, month, count, sum, unique_count) VALUES (?,?,?,1,?,changes()) "
      "ON CONFLICT(tenant, metric, month) DO UPDATE SET count = count + 1, sum = sum + excluded.sum, "
      "unique_count = unique_count + excluded.unique_count");
  if (!audit || !uniq || !meter) throw std::runtime_error("prepare");
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < events.size(); i += 4096) {
    must((*db)->exec("BEGIN"), "begin");
    for (std::size_t k = i; k < std::min(events.size(), i + 4096); ++k) {
      const Event& e = events[k];
      const std::string month = month_of(e.occurred_at_us);
      const auto bytes = static_cast<std::int64_t>(e.data.size());
      must(audit->bind_all(e.position, e.recorded_at_us, e.tenant, e.actor.id, e.actor.impersonator, e.type,
                           e.stream, std::string(), e.id)
               .run(),
           "audit");
      must(uniq->bind_all(e.tenant, "events", month, e.actor.id).run(), "unique");
      must(meter->bind_all(e.tenant, "events", month, bytes).run(), "meter");
      must(uniq->bind_all(e.tenant, e.type, month, e.stream).run(), "unique");
      must(meter->bind_all(e.tenant, e.type, month, bytes).run(), "meter");
    }
    must((*db)->exec("COMMIT"), "commit");
  }
  return static_cast<double>(events.size()) / seconds_since(t0);
}

}  // namespace

void run_views_bench(const Settings& s) {
  TempDir dir(s.tmp_root, "views");
  RocksLogOptions lo;
  lo.path = dir.path() + "/log";
  lo.sync = false;  // filling the log is set-up, not measured
  auto log = RocksEventLog::open(lo);
  if (!log) throw std::runtime_error(log.error().message);
  const std::uint64_t n = s.view_events;
  note(fmt::format("views_rebuild: writing {} events", n));
  for (std::uint64_t i = 0; i < n; i += 1000) {
    Commit c;
    for (std::uint64_t k = i; k < std::min(n, i + 1000); ++k) c.events.push_back(view_event(k, s.payload));
    std::promise<Result<Committed>> p;
    auto f = p.get_future();
    (*log)->append(std::move(c), [&p](Result<Committed> r) { p.set_value(std::move(r)); });
    if (auto r = f.get(); !r) throw std::runtime_error(r.error().message);
  }
  // An empty live generation, so the rebuild replays only usage and audit.
  Upcaster upcaster;
  {
    ProjectionRuntime::Options o;
    o.data_dir = dir.path();
    auto rt = ProjectionRuntime::open(**log, upcaster, o);
    if (!rt) throw std::runtime_error(rt.error().message);
  }
  ViewFiles files(dir.path());
  must(files.lock_writer(), "lock");

  CpuProbe cpu;
  note("views_rebuild: rebuilding usage and audit from the log");
  const auto t0 = Clock::now();
  must(ProjectionRuntime::rebuild_offline(**log, upcaster, dir.path(), {"usage", "audit"}, nullptr), "rebuild");
  const double rebuild = static_cast<double>(n) / seconds_since(t0);

  note("views_rebuild baseline: the same rows as raw SQLite inserts");
  std::vector<Event> events;
  events.reserve(n);
  for (std::uint64_t from = 1; from <= n;) {
    auto batch = (*log)->read_forward(0, from, 65536, HashCheck::trust);
    if (!batch || batch->empty()) throw std::runtime_error("reading the log back");
    from = batch->back().position + 1;
    for (auto& e : *batch) events.push_back(std::move(e));
  }
  const double raw = raw_inserts(dir.path() + "/raw.db", events);
  report("views_rebuild", rebuild, "events/s", raw,
         {{"baseline_unit", "events/s (raw SQLite inserts of the same rows)"},
          {"target_ratio", 0.7},
          {"events", n},
          {"views", "usage,audit"},
          {"other_cpu_cores", std::round(cpu.other_cores() * 100) / 100}});
}

}  // namespace causeway::bench
