#include "projections/generation_builder.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

#include "projections/runtime.h"
#include "projections/view_set.h"

namespace causeway {

namespace {

// Bulk settings for a generation nobody reads yet; it is synced before publish.
const char* kBulkPragmas =
    "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; "
    "PRAGMA temp_store=MEMORY; PRAGMA main.locking_mode=EXCLUSIVE;";

// Creates every projection in `vs` (a fresh generation); copies from the
// attached `live` database those not in `names` whose stored version is
// current and not failed, and adds the others to `names`.
Status create_or_copy(ViewSet& vs, bool have_live, std::set<std::string>& names, std::uint32_t partitions) {
  auto txn = sql::Txn::begin(*vs.db);
  if (!txn) return std::move(txn).error();
  for (std::size_t i = 0; i < vs.projections.size(); ++i) {
    auto& p = *vs.projections[i];
    vs.tracks[i].checkpoint.assign(partitions, 0);
    bool copy = have_live && !names.contains(p.name());
    if (copy) {
      auto same = vs.db->prepare("SELECT count(*) FROM live._projections WHERE name = ? AND version = ? AND "
                                 "schema_hash = ? AND error IS NULL");
      if (!same) return std::move(same).error();
      same->bind_all(p.name(), p.version(), p.schema_hash());
      if (auto r = same->step(); !r || same->i64(0) == 0) copy = false;
    }
    if (auto st = create_projection(*vs.db, p, partitions); !st) return st;
    if (!copy) {
      names.insert(p.name());
      continue;
    }
    vs.tracks[i].state = ProjectionTrack::State::idle;
    for (const auto& t : p.tables())
      if (auto st = vs.db->exec(fmt::format("INSERT INTO main.{0} SELECT * FROM live.{0}", t)); !st) return st;
    auto st = vs.db->exec(fmt::format(
        "DELETE FROM main._checkpoints WHERE projection = {0};"
        "INSERT INTO main._checkpoints SELECT * FROM live._checkpoints WHERE projection = {0}",
        sql::quote(p.name())));
    if (!st) return st;
  }
  return txn->commit();
}

}  // namespace

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
    if (auto st = vs.db->exec(kBulkPragmas); !st) return fail(std::move(st).error());
    if (auto st = vs.db->exec(kRuntimeSchema); !st) return fail(std::move(st).error());
    if (!live.empty()) {
      if (auto st = vs.db->exec("ATTACH DATABASE " + sql::quote(sql::file_uri(live, "mode=ro")) + " AS live"); !st)
        return fail(std::move(st).error());
    }
    if (auto st = create_or_copy(vs, !live.empty(), names, log.partitions()); !st) return fail(std::move(st).error());
    if (!live.empty()) (void)vs.db->exec("DETACH DATABASE live");
    if (auto st = prepare_writes(vs); !st) return fail(std::move(st).error());
    if (auto st = replay_to(log, upcaster, vs, log.head(), 4096, progress, stop); !st)
      return fail(std::move(st).error());
  }  // closed: the caller reopens it with serving settings
  return path;
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

}  // namespace causeway
