// restore_backup: verify a backup folder against its manifest, then copy it
// into a new data folder.
#include <algorithm>
#include <boost/json/array.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

#include "api/backup.h"
#include "api/backup_manifest.h"
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

// Removes what a failed restore created in the data folder.
struct UndoRestore {
  std::string data_dir;
  bool created_dir = false;
  bool armed = true;
  ~UndoRestore() {
    if (!armed) return;
    std::error_code ec;
    if (created_dir) {
      fs::remove_all(data_dir, ec);
      return;
    }
    for (const char* name : {"log", "views", "views.db", "views.db.tmp", "master.key", "admin.token"})
      fs::remove_all(data_dir + "/" + name, ec);
  }
};

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

Result<BackupSummary> restore_backup(const std::string& from, const std::string& data_dir) {
  auto m = read_manifest(from);
  if (!m) return std::move(m).error();
  if (auto st = verify_files(from, *m); !st) return std::move(st).error();

  std::error_code ec;
  UndoRestore undo{data_dir};
  if (fs::exists(data_dir, ec)) {
    if (!fs::is_directory(data_dir, ec) || !fs::is_empty(data_dir, ec))
      return Error::conflict(fmt::format("{} is not empty: restore only into a new or empty folder", data_dir));
  } else {
    fs::create_directories(data_dir, ec);
    if (ec) return Error::unavailable(fmt::format("cannot create {}: {}", data_dir, ec.message()));
    undo.created_dir = true;
  }

  BackupSummary out;
  std::set<std::string> dirs{data_dir};
  for (const auto& f : m->files) {
    const std::string to = destination(data_dir, f.path);
    const std::string dir = fs::path(to).parent_path().string();
    fs::create_directories(dir, ec);
    if (ec) return Error::unavailable(fmt::format("cannot create {}: {}", dir, ec.message()));
    dirs.insert(dir);
    const bool secret = f.path == "master.key" || f.path == "admin.token";
    auto hash = copy_file_hashed(from + "/" + f.path, to, secret || f.path == "views.db" ? 0600 : 0644);
    if (!hash) return std::move(hash).error();
    if (*hash != f.blake2b_256)
      return Error::corruption(fmt::format("backup file {} changed while it was being restored", f.path));
    out.bytes += f.bytes;
  }
  for (const auto& d : dirs)
    if (auto st = sync_dir(d); !st) return std::move(st).error();
  if (m->has_views)
    if (auto st = ViewFiles(data_dir).publish(data_dir + "/" + kRestoredGeneration); !st) return std::move(st).error();
  if (auto st = check_restored_log(data_dir, *m); !st) return std::move(st).error();
  undo.armed = false;

  out.path = data_dir;
  out.log_position = m->log_position;
  out.views_position = m->views_position;
  out.has_views = m->has_views;
  out.files = m->files.size();
  out.secrets = m->secrets;
  return out;
}

}  // namespace causeway
