#include "projections/view_set.h"

#include <fmt/format.h>

#include "projections/view_files.h"

namespace causeway {

const char* const kRuntimeSchema =
    "CREATE TABLE IF NOT EXISTS _projections (name TEXT PRIMARY KEY, version INTEGER NOT NULL, "
    "schema_hash TEXT NOT NULL, error TEXT, error_position INTEGER) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _checkpoints (projection TEXT NOT NULL, partition INTEGER NOT NULL, "
    "position INTEGER NOT NULL, PRIMARY KEY (projection, partition)) WITHOUT ROWID;";

namespace {

// Serving settings: WAL so readers never block the writer. synchronous=NORMAL
// is enough here: a lost tail of committed batches after power loss takes
// their checkpoints with it, and the log replays them. The writer keeps
// 32 MiB of pages cached (SQLite's default is 2 MiB): the run, audit and
// usage tables take writes all over their indexes. (A larger WAL between
// checkpoints, 8,000 pages, saved commit time but doubled the projection
// lag's p99 under load: each checkpoint then holds the writer longer.)
const char* const kServingPragmas =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-32768;";

using State = ProjectionTrack::State;

// Reads `p`'s stored version and checkpoints into `t`; creates `p` when it is new.
Status load_track(sql::Db& db, sql::Stmt& row, sql::Stmt& cps, Projection& p, ProjectionTrack& t,
                  std::uint32_t partitions) {
  t.checkpoint.assign(partitions, 0);
  row.bind_all(p.name());
  auto found = row.step();
  if (!found) return std::move(found).error();
  const bool known = *found;
  const bool same = known && row.i64(0) == p.version() && row.text(1) == p.schema_hash();
  row.reset();
  if (!known) {
    if (auto st = create_projection(db, p, partitions); !st) return st;
  } else if (!same) {
    t.state = State::frozen;
  }
  cps.bind_all(p.name());
  for (;;) {
    auto r = cps.step();
    if (!r) return std::move(r).error();
    if (!*r) break;
    auto part = static_cast<std::uint64_t>(cps.i64(0));
    if (part < partitions) t.checkpoint[part] = static_cast<std::uint64_t>(cps.i64(1));
  }
  cps.reset();
  return ok_status();
}

}  // namespace

int ViewSet::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < projections.size(); ++i)
    if (projections[i]->name() == name) return static_cast<int>(i);
  return -1;
}

std::uint64_t ViewSet::next_position(std::uint32_t partition) const {
  std::uint64_t lowest = UINT64_MAX;
  for (const auto& t : tracks)
    if (t.state == State::running) lowest = std::min(lowest, t.checkpoint[partition]);
  return lowest == UINT64_MAX ? 0 : lowest + 1;
}

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
    if (vs.tracks[i].state == State::running)
      if (auto st = vs.projections[i]->attach(*vs.db); !st) return st;
  return ok_status();
}

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
  for (std::size_t i = 0; i < vs->projections.size(); ++i)
    if (auto st = load_track(*vs->db, *row, *cps, *vs->projections[i], vs->tracks[i], partitions); !st)
      return std::move(st).error();
  if (auto st = txn->commit(); !st) return std::move(st).error();
  if (auto st = prepare_writes(*vs); !st) return std::move(st).error();
  return vs;
}

Status seal_generation(ViewSet& vs) {
  if (auto st = vs.db->exec("PRAGMA wal_checkpoint(TRUNCATE)"); !st) return st;
  return fsync_path(vs.path);
}

}  // namespace causeway
