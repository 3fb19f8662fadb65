// create_backup and the summary; restoring is in restore.cpp.
#include "api/backup.h"

#include <sys/stat.h>

#include <boost/json/array.hpp>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>

#include "api/backup_manifest.h"
#include "api/key_snapshots.h"
#include "events/codec.h"
#include "events/rocks/rocks_log.h"
#include "projections/view_backup.h"

namespace causeway {
namespace fs = std::filesystem;
using namespace backup;

namespace {

// Removes a half-written backup folder unless disarmed.
struct RemoveOnFailure {
  std::string path;
  bool armed = true;
  ~RemoveOnFailure() {
    std::error_code ec;
    if (armed) fs::remove_all(path, ec);
  }
};

// A checkpoint hard-links the live SST files when it can; a backup should not
// share inodes with the database it protects (a chmod, an edit or a bad block
// of one would be the other's), so linked files are replaced by copies.
Status unlink_from_live(const std::string& log_dir) {
  auto files = list_files(log_dir);
  if (!files) return std::move(files).error();
  for (const auto& rel : *files) {
    const std::string path = log_dir + "/" + rel;
    std::error_code ec;
    if (fs::hard_link_count(path, ec) <= 1 || ec) continue;
    const std::string tmp = path + ".copy";
    auto copied = copy_file_hashed(path, tmp, 0644);
    if (!copied) return std::move(copied).error();
    fs::rename(tmp, path, ec);
    if (ec) return Error::unavailable(fmt::format("cannot replace {}: {}", path, ec.message()));
  }
  return sync_dir(log_dir);
}

// Empties the data keys of the log copy (they go to a key snapshot instead),
// then reads its head and chain hash from the copy itself: the checkpoint may
// hold groups written after head() was last published.
Status strip_keys_and_read_head(const std::string& log_dir, Manifest& m) {
  RocksLogOptions o;
  o.path = log_dir;
  auto copy = RocksEventLog::open(o);
  if (!copy) return std::move(copy).error();
  auto st = (*copy)->replace_keys({});
  m.log_position = (*copy)->head();
  m.chain_head = hex((*copy)->chain_head());
  (*copy)->close();
  return st;
}

}  // namespace

Result<std::string> check_backup_target(const std::string& target_path) {
  fs::path target(target_path);
  if (!target.is_absolute()) return Error::invalid("the backup folder must be an absolute path", "/path");
  target = target.lexically_normal();
  if (!target.has_filename()) target = target.parent_path();  // a trailing '/'
  std::error_code ec;
  if (!fs::is_directory(target.parent_path(), ec))
    return Error::invalid(fmt::format("the parent folder of {} does not exist", target.string()), "/path");
  if (fs::exists(fs::symlink_status(target, ec)))
    return Error::conflict(fmt::format("{} already exists", target.string()), "/path");
  return target.string();
}

Result<BackupSummary> create_backup(RocksEventLog& log, const BackupOptions& opts) {
  if (!opts.key_snapshots) return Error::invalid("a backup needs a key snapshot folder");
  auto checked = check_backup_target(opts.target);
  if (!checked) return std::move(checked).error();
  const std::string root = std::move(checked).value();
  std::error_code ec;
  // mkdir, not the check above, decides a race: only the folder made here is ours.
  if (::mkdir(root.c_str(), 0700) != 0) {
    if (errno == EEXIST) return Error::conflict(fmt::format("{} already exists", root), "/path");
    return Error::unavailable(fmt::format("cannot create {}", root));
  }
  RemoveOnFailure cleanup{root};

  // Views first, log second: the views copy is then never ahead of the log copy.
  Manifest m;
  auto views = copy_views(opts.data_dir, root + "/views.db");
  if (views) {
    m.has_views = true;
    m.views_generation = views->generation;
    m.view_checkpoints = std::move(views->checkpoints);
  } else if (views.error().code != Errc::not_found) {
    return std::move(views).error();
  }
  if (auto st = log.checkpoint_to(root + "/log"); !st) return std::move(st).error();
  if (auto st = unlink_from_live(root + "/log"); !st) return std::move(st).error();
  if (auto st = strip_keys_and_read_head(root + "/log", m); !st) return std::move(st).error();
  m.views_position = lowest(m.view_checkpoints, log.partitions());
  for (const auto& c : m.view_checkpoints)
    if (c.partition >= m.log_position.offsets.size() || c.position > m.log_position.offsets[c.partition])
      return Error::corruption(fmt::format("the views copy ({} at {}) is ahead of the log copy ({})", c.projection,
                                           c.position, m.log_position.str()));

  if (opts.include_secrets) {
    const std::pair<const char*, const std::string*> secrets[] = {{"master.key", &opts.master_key_file},
                                                                  {"admin.token", &opts.admin_token_file}};
    for (const auto& [name, from] : secrets) {
      if (from->empty() || !fs::exists(*from, ec)) continue;
      auto copied = copy_file_hashed(*from, root + "/" + name, 0600);
      if (!copied) return std::move(copied).error();
      m.secrets.emplace_back(name);
    }
  }

  auto files = list_files(root);
  if (!files) return std::move(files).error();
  BackupSummary out;
  for (const auto& rel : *files) {
    auto f = describe_file(root, rel);
    if (!f) return std::move(f).error();
    out.bytes += f->bytes;
    m.files.push_back(std::move(f).value());
  }
  m.created_at = rfc3339_us(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  // The manifest is written last and renamed into place: its presence means
  // every file it lists is complete and synced.
  const std::string tmp = root + "/manifest.json.tmp";
  if (auto st = sync_dir(root); !st) return std::move(st).error();
  if (auto st = write_new_file(tmp, manifest_json(m), 0600); !st) return std::move(st).error();
  fs::rename(tmp, root + "/" + kManifestName, ec);
  if (ec) return Error::unavailable(fmt::format("cannot write the manifest of {}", root));
  if (auto st = sync_dir(root); !st) return std::move(st).error();
  if (auto st = sync_dir(fs::path(root).parent_path().string()); !st) return std::move(st).error();
  // The keys after the data: the snapshot's position covers the backup's.
  auto keys = opts.key_snapshots->write();
  if (!keys) return std::move(keys).error();
  cleanup.armed = false;

  out.path = root;
  out.log_position = m.log_position;
  out.views_position = m.views_position;
  out.has_views = m.has_views;
  out.files = m.files.size();
  out.secrets = m.secrets;
  out.key_snapshot = keys->path;
  out.keys = keys->keys;
  return out;
}

boost::json::object to_json(const BackupSummary& s) {
  boost::json::object o{{"path", s.path},
                        {"log_position", s.log_position.str()},
                        {"files", s.files},
                        {"bytes", s.bytes},
                        {"secrets", boost::json::array(s.secrets.begin(), s.secrets.end())}};
  if (!s.key_snapshot.empty()) {
    o["key_snapshot"] = s.key_snapshot;
    o["keys"] = s.keys;
  }
  if (s.has_views) o["views_position"] = s.views_position.str();
  else o["views_position"] = nullptr;
  return o;
}

}  // namespace causeway
