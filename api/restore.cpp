// restore_backup: verify a backup folder against its manifest, then copy it
// into a new data folder.
#include <algorithm>
#include <boost/json/array.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "api/backup.h"
#include "api/backup_manifest.h"
#include "api/key_snapshots.h"
#include "events/codec.h"
#include "events/rocks/rocks_log.h"
#include "projections/view_files.h"

namespace causeway {
namespace fs = std::filesystem;
using namespace backup;

namespace {

constexpr const char* kRestoredGeneration = "views/gen-000001.db";

Result<Manifest> read_manifest(const std::string& from) {
  const std::string path = from + "/" + kManifestName;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return Error::not_found(fmt::format("{} has no {}: not a backup, or an incomplete one", from, kManifestName));
  if (fs::file_size(path, ec) > (64u << 20)) return Error::invalid(fmt::format("{} is too large", path));
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) return Error::unavailable(fmt::format("cannot read {}", path));
  return parse_manifest(ss.str());
}

// Every listed file exists with its size and hash; the log and views the
// manifest describes are listed.
Status verify_files(const std::string& from, const Manifest& m) {
  auto listed = [&](std::string_view p) {
    return std::any_of(m.files.begin(), m.files.end(), [&](const ManifestFile& f) { return f.path == p; });
  };
  if (!listed("log/CURRENT")) return Error::corruption("the backup manifest lists no log (log/CURRENT)");
  if (m.has_views && !listed("views.db")) return Error::corruption("the backup manifest lists no views.db");
  for (const auto& s : m.secrets)
    if (!listed(s)) return Error::corruption(fmt::format("the backup manifest lists no {}", s));
  for (const auto& f : m.files) {
    std::error_code ec;
    if (!fs::is_regular_file(from + "/" + f.path, ec))
      return Error::corruption(fmt::format("backup file {} is missing", f.path));
    auto got = describe_file(from, f.path);
    if (!got) return std::move(got).error();
    if (got->bytes != f.bytes)
      return Error::corruption(
          fmt::format("backup file {} has {} bytes, its manifest says {}", f.path, got->bytes, f.bytes));
    if (got->blake2b_256 != f.blake2b_256)
      return Error::corruption(fmt::format("backup file {} does not match its manifest hash (altered or damaged)", f.path));
  }
  return ok_status();
}

// Where a backup file goes in the data folder.
std::string destination(const std::string& data_dir, const std::string& rel) {
  if (rel == "views.db") return data_dir + "/" + kRestoredGeneration;
  return data_dir + "/" + rel;  // log/..., master.key, admin.token
}

// Removes what a failed restore created, and nothing else: every folder and
// file the restore makes is recorded before it is made, and removed in reverse
// order. A folder it created is removed with its contents (all of which the
// restore made, RocksDB's files in log/ included); whatever was in the data
// folder before the restore is never named here, so never removed.
class UndoRestore {
 public:
  ~UndoRestore() {
    if (!armed_) return;
    std::error_code ec;
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) fs::remove_all(*it, ec);
  }
  // Creates `dir` and its missing parents, recording each one made.
  Status make_dirs(const fs::path& dir) {
    std::vector<fs::path> missing;
    std::error_code ec;
    for (fs::path p = dir; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
      missing.push_back(p);
      if (p == p.parent_path()) break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      if (!fs::create_directory(*it, ec) && ec)
        return Error::unavailable(fmt::format("cannot create {}: {}", it->string(), ec.message()));
      created_.push_back(*it);
    }
    return ok_status();
  }
  // Records a file the restore is about to create (it must not exist yet).
  void will_create(const fs::path& file) { created_.push_back(file); }
  void disarm() { armed_ = false; }

 private:
  std::vector<fs::path> created_;
  bool armed_ = true;
};

// Refuses a data folder that exists and is not an empty folder. Nothing is
// created or changed before this check passes.
Status check_target(const std::string& data_dir) {
  std::error_code ec;
  if (!fs::exists(data_dir, ec)) return ok_status();
  if (!fs::is_directory(data_dir, ec))
    return Error::conflict(fmt::format("{} is not a folder: restore only into a new or empty folder", data_dir));
  if (!fs::is_empty(data_dir, ec) || ec)
    return Error::conflict(fmt::format("{} is not empty: restore only into a new or empty folder", data_dir));
  return ok_status();
}

// The key snapshot a restore uses, checked before anything is created:
// nullopt for a version 1 backup restored with its own keys.
Result<std::optional<KeySnapshot>> keys_for(const RestoreOptions& opts, const Manifest& m) {
  if (opts.keys.empty()) {
    if (m.holds_data_keys()) return std::optional<KeySnapshot>();
    return Error::invalid(
        "this backup holds no data keys: name the key snapshot to restore them from (--keys FILE, or the key "
        "snapshot folder for its newest snapshot)",
        "/keys");
  }
  auto snap = read_key_snapshot(opts.keys);
  if (!snap) return std::move(snap).error();
  const auto& have = snap->log_position.offsets;
  const auto& need = m.log_position.offsets;
  bool covers = have.size() == need.size();
  for (std::size_t p = 0; covers && p < need.size(); ++p) covers = have[p] >= need[p];
  if (!covers)
    return Error::invalid(fmt::format("the key snapshot {} (log position {}) is older than the backup (log position "
                                      "{}): use a snapshot taken after it, such as the newest",
                                      snap->path, snap->log_position.str(), m.log_position.str()),
                          "/keys");
  return std::optional<KeySnapshot>(std::move(snap).value());
}

// Makes the snapshot's keys the restored log's only data keys.
Status restore_keys(const std::string& data_dir, const KeySnapshot& snap) {
  RocksLogOptions o;
  o.path = data_dir + "/log";
  auto log = RocksEventLog::open(o);
  if (!log) return std::move(log).error();
  auto st = (*log)->replace_keys(snap.keys);
  (*log)->close();
  return st;
}

Status check_restored_log(const std::string& data_dir, const Manifest& m) {
  RocksLogOptions o;
  o.path = data_dir + "/log";
  o.read_only = true;
  auto log = RocksEventLog::open(o);
  if (!log) return std::move(log).error();
  const bool same = (*log)->head() == m.log_position && hex((*log)->chain_head()) == m.chain_head;
  (*log)->close();
  if (!same)
    return Error::corruption(fmt::format("the restored log does not end at the backup's head {}", m.log_position.str()));
  return ok_status();
}

}  // namespace

Result<BackupSummary> restore_backup(const RestoreOptions& opts) {
  const std::string& from = opts.from;
  const std::string& data_dir = opts.data_dir;
  auto m = read_manifest(from);
  if (!m) return std::move(m).error();
  if (auto st = verify_files(from, *m); !st) return std::move(st).error();
  auto snap = keys_for(opts, *m);
  if (!snap) return std::move(snap).error();

  if (auto st = check_target(data_dir); !st) return std::move(st).error();

  std::error_code ec;
  UndoRestore undo;
  if (auto st = undo.make_dirs(data_dir); !st) return std::move(st).error();

  BackupSummary out;
  std::set<std::string> dirs{data_dir};
  for (const auto& f : m->files) {
    const std::string to = destination(data_dir, f.path);
    const std::string dir = fs::path(to).parent_path().string();
    if (auto st = undo.make_dirs(dir); !st) return std::move(st).error();
    dirs.insert(dir);
    undo.will_create(to);
    const bool secret = f.path == "master.key" || f.path == "admin.token";
    auto hash = copy_file_hashed(from + "/" + f.path, to, secret || f.path == "views.db" ? 0600 : 0644);
    if (!hash) return std::move(hash).error();
    if (*hash != f.blake2b_256)
      return Error::corruption(fmt::format("backup file {} changed while it was being restored", f.path));
    out.bytes += f.bytes;
  }
  for (const auto& d : dirs)
    if (auto st = sync_dir(d); !st) return std::move(st).error();
  if (m->has_views) {
    undo.will_create(data_dir + "/views.db.tmp");
    undo.will_create(data_dir + "/views.db");
    if (auto st = ViewFiles(data_dir).publish(data_dir + "/" + kRestoredGeneration); !st) return std::move(st).error();
  }
  if (*snap)
    if (auto st = restore_keys(data_dir, **snap); !st) return std::move(st).error();
  if (auto st = check_restored_log(data_dir, *m); !st) return std::move(st).error();
  undo.disarm();

  out.path = data_dir;
  out.log_position = m->log_position;
  out.views_position = m->views_position;
  out.has_views = m->has_views;
  out.files = m->files.size();
  out.secrets = m->secrets;
  if (*snap) {
    out.key_snapshot = (*snap)->path;
    out.keys = (*snap)->keys.size();
  }
  out.keys_from_backup = !*snap;
  return out;
}

}  // namespace causeway
