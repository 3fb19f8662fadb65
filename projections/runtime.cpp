#include "projections/runtime.h"

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fmt/format.h>

namespace causeway {

namespace {

const char* kRuntimeSchema =
    "CREATE TABLE IF NOT EXISTS _projections (name TEXT PRIMARY KEY, version INTEGER NOT NULL, "
    "schema_hash TEXT NOT NULL, error TEXT, error_position INTEGER) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _checkpoints (projection TEXT NOT NULL, partition INTEGER NOT NULL, "
    "position INTEGER NOT NULL, PRIMARY KEY (projection, partition)) WITHOUT ROWID;";

// Serving settings: WAL so readers never block the writer. synchronous=NORMAL
// is enough here: a lost tail of committed batches after power loss takes
// their checkpoints with it, and the log replays them. The writer keeps
// 32 MiB of pages cached (SQLite's default is 2 MiB): the run, audit and
// usage tables take writes all over their indexes. (A larger WAL between
// checkpoints, 8,000 pages, saved commit time but doubled the projection
// lag's p99 under load: each checkpoint then holds the writer longer.)
const char* kServingPragmas =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-32768;";
// Bulk settings for a generation nobody reads yet; it is synced before publish.
const char* kBulkPragmas =
    "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; "
    "PRAGMA temp_store=MEMORY; PRAGMA main.locking_mode=EXCLUSIVE;";

struct Parsed {
  boost::json::object data;
  std::optional<Error> error;
};

std::vector<Parsed> parse_batch(const std::vector<Event>& events, const Upcaster& upcaster) {
  std::vector<Parsed> out(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    boost::system::error_code ec;
    auto v = boost::json::parse(events[i].data, ec);
    if (ec || !v.is_object()) {
      out[i].error = Error::corruption("the payload is not a JSON object");
      continue;
    }
    out[i].data = std::move(v.as_object());
    if (auto r = upcaster.upcast(events[i].type, events[i].schema_version, out[i].data); !r)
      out[i].error = std::move(r).error();
  }
  return out;
}

}  // namespace

struct ProjectionRuntime::Track {
  enum class State { running, failed, frozen, idle };  // idle: not applied in this set (rebuild copy)
  State state = State::running;
  std::vector<std::uint64_t> checkpoint;  // per partition
  std::string error;
  std::uint64_t error_position = 0;
};

struct ProjectionRuntime::ViewSet {
  std::string path;
  std::unique_ptr<sql::Db> db;
  ProjectionSet projections;
  std::vector<Track> tracks;  // parallel to projections
  sql::Stmt save_checkpoint;
  sql::Stmt save_failure;

  int index_of(const std::string& name) const {
    for (std::size_t i = 0; i < projections.size(); ++i)
      if (projections[i]->name() == name) return static_cast<int>(i);
    return -1;
  }
  std::uint64_t next_position(std::uint32_t p) const {
    std::uint64_t lowest = UINT64_MAX;
    for (const auto& t : tracks)
      if (t.state == Track::State::running) lowest = std::min(lowest, t.checkpoint[p]);
    return lowest == UINT64_MAX ? 0 : lowest + 1;  // 0: nothing to apply
  }
};

namespace {

using ViewSet = ProjectionRuntime::ViewSet;
using Track = ProjectionRuntime::Track;

Status prepare_writes(ViewSet& vs) {
  auto c = vs.db->prepare(
      "INSERT INTO _checkpoints(projection, partition, position) VALUES (?,?,?) "
      "ON CONFLICT(projection, partition) DO UPDATE SET position = excluded.position");
  if (!c) return std::move(c).error();
  vs.save_checkpoint = std::move(c).value();
  auto f = vs.db->prepare("UPDATE _projections SET error = ?, error_position = ? WHERE name = ?");
  if (!f) return std::move(f).error();
  vs.save_failure = std::move(f).value();
  for (std::size_t i = 0; i < vs.projections.size(); ++i)
    if (vs.tracks[i].state == Track::State::running)
      if (auto st = vs.projections[i]->attach(*vs.db); !st) return st;
  return ok_status();
}

// Creates `p`'s tables and its bookkeeping rows (checkpoint 0) in the open transaction.
Status create_projection(sql::Db& db, Projection& p, std::uint32_t partitions) {
  if (auto st = db.exec(p.schema_sql()); !st)
    return Error::corruption(fmt::format("schemas/views/{}.sql: {}", p.name(), st.error().message));
  auto ins = db.prepare(
      "INSERT INTO _projections(name, version, schema_hash) VALUES (?,?,?) ON CONFLICT(name) DO UPDATE SET "
      "version = excluded.version, schema_hash = excluded.schema_hash, error = NULL, error_position = NULL");
  if (!ins) return std::move(ins).error();
  if (auto st = ins->bind_all(p.name(), p.version(), p.schema_hash()).run(); !st) return st;
  auto cp = db.prepare("INSERT OR REPLACE INTO _checkpoints(projection, partition, position) VALUES (?,?,0)");
  if (!cp) return std::move(cp).error();
  for (std::uint32_t part = 0; part < partitions; ++part)
    if (auto st = cp->bind_all(p.name(), static_cast<std::int64_t>(part)).run(); !st) return st;
  return ok_status();
}

// Opens a generation for serving. New projections are created in place (they
// have nothing to keep answering with); changed ones are frozen.
Result<std::unique_ptr<ViewSet>> open_serving(const std::string& path, std::uint32_t partitions) {
  auto db = sql::Db::open(path, sql::Db::Mode::read_write_create);
  if (!db) return std::move(db).error();
  auto vs = std::make_unique<ViewSet>();
  vs->path = path;
  vs->db = std::move(db).value();
  vs->projections = make_projections();
  vs->tracks.resize(vs->projections.size());
  if (auto st = vs->db->exec(kServingPragmas); !st) return std::move(st).error();
  if (auto st = vs->db->exec(kRuntimeSchema); !st) return std::move(st).error();
  auto txn = sql::Txn::begin(*vs->db);
  if (!txn) return std::move(txn).error();
  // A projection stopped by a poison event retries from its checkpoint on
  // every open; its error is recorded again if the event still fails.
  if (auto st = vs->db->exec("UPDATE _projections SET error = NULL, error_position = NULL WHERE error IS NOT NULL");
      !st)
    return std::move(st).error();
  auto row = vs->db->prepare("SELECT version, schema_hash FROM _projections WHERE name = ?");
  if (!row) return std::move(row).error();
  auto cps = vs->db->prepare("SELECT partition, position FROM _checkpoints WHERE projection = ?");
  if (!cps) return std::move(cps).error();
  for (std::size_t i = 0; i < vs->projections.size(); ++i) {
    auto& p = *vs->projections[i];
    auto& t = vs->tracks[i];
    t.checkpoint.assign(partitions, 0);
    row->bind_all(p.name());
    auto found = row->step();
    if (!found) return std::move(found).error();
    bool known = *found;
    bool same = known && row->i64(0) == p.version() && row->text(1) == p.schema_hash();
    row->reset();
    if (!known) {
      if (auto st = create_projection(*vs->db, p, partitions); !st) return std::move(st).error();
    } else if (!same) {
      t.state = Track::State::frozen;
    }
    cps->bind_all(p.name());
    for (;;) {
      auto r = cps->step();
      if (!r) return std::move(r).error();
      if (!*r) break;
      auto part = static_cast<std::uint64_t>(cps->i64(0));
      if (part < partitions) t.checkpoint[part] = static_cast<std::uint64_t>(cps->i64(1));
    }
    cps->reset();
  }
  if (auto st = txn->commit(); !st) return std::move(st).error();
  if (auto st = prepare_writes(*vs); !st) return std::move(st).error();
  return vs;
}

// Applies one batch of `partition` to every running projection of `vs` in one
// transaction; each projection's checkpoint is written in it. Tracks change
// only once the transaction has committed.
// `publish_mu` (when the set is visible to other threads) guards the tracks.
Status apply_batch(ViewSet& vs, std::uint32_t partition, const std::vector<Event>& events, const Upcaster& upcaster,
                   std::mutex* publish_mu = nullptr) {
  if (events.empty()) return ok_status();
  const auto parsed = parse_batch(events, upcaster);
  std::vector<Track> next = vs.tracks;
  auto txn = sql::Txn::begin(*vs.db);
  if (!txn) return std::move(txn).error();
  const std::uint64_t last = events.back().position;
  for (std::size_t i = 0; i < vs.projections.size(); ++i) {
    auto& t = next[i];
    if (t.state != Track::State::running || t.checkpoint[partition] >= last) continue;
    auto& proj = *vs.projections[i];
    proj.discard();  // anything left from a batch that failed before its flush
    if (auto st = vs.db->exec("SAVEPOINT apply"); !st) return st;
    // Applies events [0, end) past the checkpoint; returns the index that failed, or end.
    auto apply_range = [&](std::size_t end, Status& why) {
      for (std::size_t k = 0; k < end; ++k) {
        const Event& e = events[k];
        if (e.position <= t.checkpoint[partition] || !proj.consumes(e.type)) continue;
        why = parsed[k].error ? Status(*parsed[k].error) : proj.apply(e, parsed[k].data);
        if (!why) return k;
      }
      return end;
    };
    Status why = ok_status();
    std::size_t bad = apply_range(events.size(), why);
    if (bad == events.size())
      if (auto st = proj.flush(); !st) return st;
    std::uint64_t reached = last;
    if (bad < events.size()) {
      // Undo the whole part, then redo the events before the poison one, so the
      // projection stops exactly there and its checkpoint says so.
      const Event& e = events[bad];
      proj.discard();
      if (auto rb = vs.db->exec("ROLLBACK TO apply"); !rb) return rb;
      Status again = ok_status();
      if (apply_range(bad, again) != bad) return again;
      if (auto st = proj.flush(); !st) return st;
      t.state = Track::State::failed;
      t.error_position = e.position;
      t.error = fmt::format("projection {} stopped at position {} (event {}, type {} v{}): {}", proj.name(),
                            e.position, e.id, e.type, e.schema_version, why.error().message);
      if (auto s = vs.save_failure.bind_all(t.error, e.position, proj.name()).run(); !s) return s;
      reached = e.position - 1;
    }
    if (reached > t.checkpoint[partition]) {
      if (auto st = vs.save_checkpoint.bind_all(proj.name(), static_cast<std::int64_t>(partition), reached).run(); !st)
        return st;
      t.checkpoint[partition] = reached;
    }
    if (auto st = vs.db->exec("RELEASE apply"); !st) return st;
  }
  if (auto st = txn->commit(); !st) return st;
  if (publish_mu) {
    std::lock_guard lk(*publish_mu);
    vs.tracks = std::move(next);
  } else {
    vs.tracks = std::move(next);
  }
  return ok_status();
}

// Replays the log into `vs` until every running projection has reached `until`.
Status replay_to(EventLog& log, const Upcaster& upcaster, ViewSet& vs, const PositionToken& until,
                 std::size_t batch, const ProgressFn& progress, const std::atomic<bool>* stop) {
  std::uint64_t total = 0, done = 0;
  for (auto o : until.offsets) total += o;
  for (std::uint32_t p = 0; p < until.offsets.size(); ++p) {
    for (;;) {
      if (stop && stop->load()) return Error::unavailable("stopped");
      std::uint64_t from = vs.next_position(p);
      if (from == 0 || from > until.offsets[p]) break;
      auto events = log.read_forward(p, from, batch, HashCheck::trust);
      if (!events) return std::move(events).error();
      if (events->empty()) break;
      if (auto st = apply_batch(vs, p, *events, upcaster); !st) return st;
      done = events->back().position;
      if (progress) progress(done, total);
    }
  }
  return ok_status();
}

// Writes a new generation: `names` (plus any projection whose stored version
// differs) replayed from the start, the others copied from `live` as they
// stand in one snapshot. Returns its path; it is not published.
Result<std::string> build_generation(EventLog& log, const Upcaster& upcaster, const ViewFiles& files,
                                     const std::string& live, std::set<std::string> names, const ProgressFn& progress,
                                     const std::atomic<bool>* stop) {
  auto path = files.create_generation();
  if (!path) return std::move(path).error();
  auto fail = [&](Error e) -> Result<std::string> {
    std::error_code ec;
    std::filesystem::remove(*path, ec);
    return e;
  };
  {
    auto db = sql::Db::open(*path, sql::Db::Mode::read_write_create);
    if (!db) return fail(std::move(db).error());
    ViewSet vs;
    vs.path = *path;
    vs.db = std::move(db).value();
    vs.projections = make_projections();
    vs.tracks.resize(vs.projections.size());
    const std::uint32_t partitions = log.partitions();
    if (auto st = vs.db->exec(kBulkPragmas); !st) return fail(std::move(st).error());
    if (auto st = vs.db->exec(kRuntimeSchema); !st) return fail(std::move(st).error());
    if (!live.empty()) {
      if (auto st = vs.db->exec("ATTACH DATABASE " + sql::quote(sql::file_uri(live, "mode=ro")) + " AS live"); !st)
        return fail(std::move(st).error());
    }
    {
      auto txn = sql::Txn::begin(*vs.db);
      if (!txn) return fail(std::move(txn).error());
      for (std::size_t i = 0; i < vs.projections.size(); ++i) {
        auto& p = *vs.projections[i];
        vs.tracks[i].checkpoint.assign(partitions, 0);
        bool copy = !live.empty() && !names.contains(p.name());
        if (copy) {
          auto same = vs.db->prepare("SELECT count(*) FROM live._projections WHERE name = ? AND version = ? AND "
                                     "schema_hash = ? AND error IS NULL");
          if (!same) return fail(std::move(same).error());
          same->bind_all(p.name(), p.version(), p.schema_hash());
          if (auto r = same->step(); !r || same->i64(0) == 0) copy = false;
        }
        if (auto st = create_projection(*vs.db, p, partitions); !st) return fail(std::move(st).error());
        if (!copy) {
          names.insert(p.name());
          continue;
        }
        vs.tracks[i].state = Track::State::idle;
        for (const auto& t : p.tables())
          if (auto st = vs.db->exec(fmt::format("INSERT INTO main.{0} SELECT * FROM live.{0}", t)); !st)
            return fail(std::move(st).error());
        auto st = vs.db->exec(fmt::format(
            "DELETE FROM main._checkpoints WHERE projection = {0};"
            "INSERT INTO main._checkpoints SELECT * FROM live._checkpoints WHERE projection = {0}",
            sql::quote(p.name())));
        if (!st) return fail(std::move(st).error());
      }
      if (auto st = txn->commit(); !st) return fail(std::move(st).error());
    }
    if (!live.empty()) (void)vs.db->exec("DETACH DATABASE live");
    if (auto st = prepare_writes(vs); !st) return fail(std::move(st).error());
    if (auto st = replay_to(log, upcaster, vs, log.head(), 4096, progress, stop); !st)
      return fail(std::move(st).error());
  }  // closed: the worker reopens it with serving settings
  return path;
}

// Serving settings, everything in the main file, synced: ready to publish.
Status seal_generation(ViewSet& vs) {
  if (auto st = vs.db->exec("PRAGMA wal_checkpoint(TRUNCATE)"); !st) return st;
  return fsync_path(vs.path);
}

}  // namespace

ProjectionRuntime::ProjectionRuntime(EventLog& log, const Upcaster& upcaster, Options opts)
    : log_(log), upcaster_(upcaster), opts_(std::move(opts)), files_(opts_.data_dir) {}

Result<std::unique_ptr<ProjectionRuntime>> ProjectionRuntime::open(EventLog& log, const Upcaster& upcaster,
                                                                   Options opts) {
  std::unique_ptr<ProjectionRuntime> rt(new ProjectionRuntime(log, upcaster, std::move(opts)));
  if (auto st = rt->files_.lock_writer(); !st) return std::move(st).error();
  auto current = rt->files_.current();
  std::string path;
  if (current) {
    path = *current;
  } else if (current.error().code == Errc::not_found) {
    auto fresh = rt->files_.create_generation();
    if (!fresh) return std::move(fresh).error();
    path = *fresh;
  } else {
    return std::move(current).error();
  }
  auto vs = open_serving(path, log.partitions());
  if (!vs) return std::move(vs).error();
  if (!current)
    if (auto st = rt->files_.publish(path); !st) return std::move(st).error();
  rt->files_.remove_others({path});
  rt->live_ = std::move(vs).value();
  return rt;
}

ProjectionRuntime::~ProjectionRuntime() { stop(); }

void ProjectionRuntime::start() {
  std::vector<std::string> frozen;
  for (std::size_t i = 0; i < live_->projections.size(); ++i)
    if (live_->tracks[i].state == Track::State::frozen) frozen.push_back(live_->projections[i]->name());
  worker_ = std::thread([this] { run(); });
  if (!frozen.empty()) (void)request_rebuild(frozen);
}

void ProjectionRuntime::stop() {
  stop_ = true;
  if (rebuilder_.joinable()) rebuilder_.join();
  if (worker_.joinable()) worker_.join();
  // Waiters may own I/O objects (read-your-writes timers) of an io_context that
  // is destroyed before this runtime: drop them now, while it still exists.
  std::lock_guard lk(mu_);
  waiters_.clear();
  observer_ = nullptr;
}

void ProjectionRuntime::run() {
  while (!stop_) {
    bool pending = false;
    {
      std::lock_guard lk(mu_);
      pending = pending_ != nullptr;
    }
    if (pending) switch_to_pending();
    const auto began = std::chrono::steady_clock::now();
    const std::size_t applied = step_once();
    if (applied >= opts_.gather_from && applied < opts_.batch && opts_.gather.count() > 0) {
      std::this_thread::sleep_until(began + opts_.gather);
    } else if (applied == 0) {
      // Sleep until some partition moves past what the live set has read.
      PositionToken seen;
      bool running = false;
      for (std::uint32_t p = 0; p < log_.partitions(); ++p) {
        const std::uint64_t next = live_->next_position(p);
        running = running || next != 0;
        seen.offsets.push_back(next == 0 ? UINT64_MAX : next - 1);
      }
      if (!running) {
        std::this_thread::sleep_for(opts_.poll);  // nothing running: only a rebuild can change that
      } else {
        log_.wait_moved(seen, opts_.poll);
      }
    }
  }
}

// One batch per partition; returns the largest.
std::size_t ProjectionRuntime::step_once() {
  std::size_t largest = 0;
  for (std::uint32_t p = 0; p < log_.partitions(); ++p) {
    std::uint64_t from = live_->next_position(p);
    if (from == 0) continue;
    auto events = log_.read_forward(p, from, opts_.batch, HashCheck::trust);
    Status st = events ? apply_batch(*live_, p, *events, upcaster_, &mu_) : Status(std::move(events).error());
    if (!st) {
      std::lock_guard lk(mu_);
      last_error_ = st.error().message;
      continue;
    }
    if (events->empty()) continue;
    largest = std::max(largest, events->size());
    const std::int64_t now = (opts_.clock ? *opts_.clock : system_clock_).now_us();
    Observer observer;
    {
      std::lock_guard lk(mu_);
      last_error_.clear();
      observer = observer_;
    }
    if (observer) observer(p, *events, now);
  }
  if (largest > 0) wake_waiters();
  return largest;
}

void ProjectionRuntime::switch_to_pending() {
  std::unique_ptr<ViewSet> next;
  {
    std::lock_guard lk(mu_);
    next = std::move(pending_);
  }
  Status st = replay_to(log_, upcaster_, *next, log_.head(), opts_.batch, nullptr, &stop_);
  if (st) st = seal_generation(*next);
  if (st) st = files_.publish(next->path);
  if (!st) {
    std::lock_guard lk(mu_);
    last_error_ = "rebuild not published: " + st.error().message;
    rebuilding_.clear();
    std::error_code ec;
    std::filesystem::remove(next->path, ec);
    return;
  }
  std::unique_ptr<ViewSet> old;
  {
    std::lock_guard lk(mu_);
    old = std::move(live_);
    live_ = std::move(next);
    rebuilding_.clear();
  }
  // The replaced generation stays on disk until the next switch or start:
  // SQLite refuses new statements on a connection whose file was unlinked, and
  // readers may still hold one.
  const std::string replaced = old->path;
  old.reset();
  files_.remove_others({live_->path, replaced});
  wake_waiters();
}

void ProjectionRuntime::rebuild_main(std::set<std::string> names) {
  std::string live_path;
  {
    std::lock_guard lk(mu_);
    live_path = live_->path;
  }
  auto path = build_generation(log_, upcaster_, files_, live_path, names, nullptr, &stop_);
  Result<std::unique_ptr<ViewSet>> vs = path ? open_serving(*path, log_.partitions())
                                             : Result<std::unique_ptr<ViewSet>>(std::move(path).error());
  std::lock_guard lk(mu_);
  if (!vs) {
    last_error_ = "rebuild failed: " + vs.error().message;
    rebuilding_.clear();
    return;
  }
  pending_ = std::move(vs).value();
}

Status ProjectionRuntime::request_rebuild(std::vector<std::string> names) {
  std::set<std::string> wanted;
  {
    std::lock_guard lk(mu_);
    if (!rebuilding_.empty() || pending_) return Error::conflict("a rebuild is already running");
    for (const auto& n : names) {
      if (live_->index_of(n) < 0) return Error::not_found(fmt::format("no projection named {}", n));
      wanted.insert(n);
    }
    if (wanted.empty())
      for (const auto& p : live_->projections) wanted.insert(p->name());
    rebuilding_ = wanted;
  }
  if (rebuilder_.joinable()) rebuilder_.join();
  rebuilder_ = std::thread([this, wanted] { rebuild_main(wanted); });
  return ok_status();
}

bool ProjectionRuntime::rebuilding() const {
  std::lock_guard lk(mu_);
  return !rebuilding_.empty() || pending_ != nullptr;
}

std::string ProjectionRuntime::last_error() const {
  std::lock_guard lk(mu_);
  return last_error_;
}

Status ProjectionRuntime::rebuild_offline(EventLog& log, const Upcaster& upcaster, const std::string& data_dir,
                                          std::vector<std::string> names, const ProgressFn& progress) {
  ViewFiles files(data_dir);
  auto current = files.current();
  std::string live = current ? *current : std::string();
  auto known = make_projections();
  std::set<std::string> wanted;
  for (const auto& n : names) {
    bool found = std::any_of(known.begin(), known.end(), [&](const auto& p) { return p->name() == n; });
    if (!found) return Error::not_found(fmt::format("no projection named {}", n));
    wanted.insert(n);
  }
  if (wanted.empty())
    for (const auto& p : known) wanted.insert(p->name());
  auto path = build_generation(log, upcaster, files, live, wanted, progress, nullptr);
  if (!path) return std::move(path).error();
  auto vs = open_serving(*path, log.partitions());
  if (!vs) return std::move(vs).error();
  if (auto st = seal_generation(**vs); !st) return st;
  if (auto st = files.publish(*path); !st) return st;
  vs->reset();
  files.remove_others({*path});
  return ok_status();
}

PositionToken ProjectionRuntime::applied(const std::string& projection) const {
  std::lock_guard lk(mu_);
  PositionToken out;
  out.offsets.assign(log_.partitions(), UINT64_MAX);
  for (std::size_t i = 0; i < live_->projections.size(); ++i) {
    if (!projection.empty() && live_->projections[i]->name() != projection) continue;
    for (std::size_t p = 0; p < out.offsets.size(); ++p)
      out.offsets[p] = std::min(out.offsets[p], live_->tracks[i].checkpoint[p]);
  }
  for (auto& o : out.offsets)
    if (o == UINT64_MAX) o = 0;
  return out;
}

bool ProjectionRuntime::knows(const std::string& projection) const {
  std::lock_guard lk(mu_);
  return live_->index_of(projection) >= 0;
}

std::string ProjectionRuntime::failure(const std::string& projection) const {
  std::lock_guard lk(mu_);
  for (std::size_t i = 0; i < live_->projections.size(); ++i)
    if ((projection.empty() || live_->projections[i]->name() == projection) && !live_->tracks[i].error.empty())
      return live_->tracks[i].error;
  return {};
}

std::vector<ProjectionStatus> ProjectionRuntime::status() const {
  const auto head = log_.head();
  const std::int64_t now = (opts_.clock ? *opts_.clock : system_clock_).now_us();
  std::vector<ProjectionStatus> out;
  {
    std::lock_guard lk(mu_);
    for (std::size_t i = 0; i < live_->projections.size(); ++i) {
      const auto& t = live_->tracks[i];
      ProjectionStatus s;
      s.name = live_->projections[i]->name();
      s.version = live_->projections[i]->version();
      s.state = rebuilding_.contains(s.name)             ? "rebuilding"
                : t.state == Track::State::failed ? "failed"
                : t.state == Track::State::frozen ? "frozen"
                                                  : "running";
      s.checkpoint.offsets = t.checkpoint;
      s.error = t.error;
      s.error_position = t.error_position;
      out.push_back(std::move(s));
    }
  }
  for (auto& s : out) {
    for (std::size_t p = 0; p < s.checkpoint.offsets.size() && p < head.offsets.size(); ++p) {
      if (head.offsets[p] <= s.checkpoint.offsets[p]) continue;
      s.lag_events += head.offsets[p] - s.checkpoint.offsets[p];
      auto next = log_.read_forward(static_cast<std::uint32_t>(p), s.checkpoint.offsets[p] + 1, 1, HashCheck::trust);
      if (next && !next->empty())
        s.lag_ms = std::max<std::int64_t>(s.lag_ms, (now - next->front().recorded_at_us) / 1000);
    }
  }
  return out;
}

Result<std::vector<ProjectionStatus>> ProjectionRuntime::stored_status(EventLog& log, const std::string& data_dir) {
  ViewFiles files(data_dir);
  auto path = files.current();
  if (!path) return std::move(path).error();
  auto db = sql::Db::open(*path, sql::Db::Mode::read_only);
  if (!db) return std::move(db).error();
  auto row = (*db)->prepare("SELECT version, schema_hash, error, error_position FROM _projections WHERE name = ?");
  if (!row) return std::move(row).error();
  auto cps = (*db)->prepare("SELECT partition, position FROM _checkpoints WHERE projection = ?");
  if (!cps) return std::move(cps).error();
  const auto head = log.head();
  std::vector<ProjectionStatus> out;
  for (const auto& p : make_projections()) {
    ProjectionStatus s;
    s.name = p->name();
    s.version = p->version();
    s.checkpoint.offsets.assign(log.partitions(), 0);
    row->bind_all(p->name());
    auto found = row->step();
    if (!found) return std::move(found).error();
    if (!*found) {
      s.state = "missing";
    } else {
      bool same = row->i64(0) == p->version() && row->text(1) == p->schema_hash();
      s.error = row->is_null(2) ? std::string() : row->text(2);
      s.error_position = row->is_null(3) ? 0 : static_cast<std::uint64_t>(row->i64(3));
      s.state = !same ? "frozen" : !s.error.empty() ? "failed" : "running";
    }
    row->reset();
    cps->bind_all(p->name());
    for (;;) {
      auto r = cps->step();
      if (!r) return std::move(r).error();
      if (!*r) break;
      auto part = static_cast<std::size_t>(cps->i64(0));
      if (part < s.checkpoint.offsets.size()) s.checkpoint.offsets[part] = static_cast<std::uint64_t>(cps->i64(1));
    }
    cps->reset();
    for (std::size_t i = 0; i < s.checkpoint.offsets.size() && i < head.offsets.size(); ++i)
      if (head.offsets[i] > s.checkpoint.offsets[i]) s.lag_events += head.offsets[i] - s.checkpoint.offsets[i];
    out.push_back(std::move(s));
  }
  return out;
}

void ProjectionRuntime::observe(Observer o) {
  std::lock_guard lk(mu_);
  observer_ = std::move(o);
}

void ProjectionRuntime::notify_once(std::function<void()> wake) {
  std::lock_guard lk(mu_);
  waiters_.push_back(std::move(wake));
}

void ProjectionRuntime::wake_waiters() {
  std::vector<std::function<void()>> w;
  {
    std::lock_guard lk(mu_);
    w.swap(waiters_);
  }
  for (auto& f : w) f();
}

}  // namespace causeway
