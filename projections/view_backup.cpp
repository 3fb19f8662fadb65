#include "projections/view_backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <thread>

#include "projections/sqlite.h"
#include "projections/view_files.h"

namespace causeway {
namespace fs = std::filesystem;

namespace {

Result<std::vector<ViewCheckpoint>> checkpoints_of(sql::Db& db) {
  auto s = db.prepare("SELECT projection, partition, position FROM _checkpoints ORDER BY projection, partition");
  if (!s) return std::move(s).error();
  std::vector<ViewCheckpoint> out;
  for (;;) {
    auto row = s->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    if (s->i64(1) < 0 || s->i64(2) < 0) return Error::corruption("a views checkpoint is negative");
    out.push_back({s->text(0), static_cast<std::uint32_t>(s->i64(1)), static_cast<std::uint64_t>(s->i64(2))});
  }
  return out;
}

// Runs the whole copy in one step, i.e. one read transaction on the source: a
// copy in several steps restarts whenever the worker commits in between.
Status backup_all(sql::Db& src, sql::Db& dst) {
  for (int attempt = 0;; ++attempt) {
    sqlite3_backup* b = sqlite3_backup_init(dst.raw(), "main", src.raw(), "main");
    if (!b) return dst.error("starting the views backup");
    int rc = sqlite3_backup_step(b, -1);
    int fin = sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE && fin == SQLITE_OK) return ok_status();
    if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && attempt < 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    return Error::unavailable(fmt::format("copying the views failed: {}", sqlite3_errstr(rc == SQLITE_DONE ? fin : rc)));
  }
}

}  // namespace

Result<ViewsCopy> copy_views(const std::string& data_dir, const std::string& dest) {
  ViewFiles files(data_dir);
  auto src_path = files.current();
  if (!src_path) return std::move(src_path).error();
  // Created here (O_EXCL, owner-only) so SQLite fills a file that is ours.
  int fd = ::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Error::conflict(fmt::format("{} already exists", dest));
    return Error::unavailable(fmt::format("cannot create {}", dest));
  }
  ::close(fd);
  {
    auto src = sql::Db::open(*src_path, sql::Db::Mode::read_only);
    if (!src) return std::move(src).error();
    auto dst = sql::Db::open(dest, sql::Db::Mode::read_write_create);
    if (!dst) return std::move(dst).error();
    if (auto st = backup_all(**src, **dst); !st) return std::move(st).error();
    // The pages came with the source's WAL flag; one file is what a backup wants.
    if (auto st = (*dst)->exec("PRAGMA journal_mode=DELETE"); !st) return std::move(st).error();
  }
  if (auto st = fsync_path(dest); !st) return std::move(st).error();
  ViewsCopy out;
  out.generation = fs::path(*src_path).filename().string();
  auto cps = read_view_checkpoints(dest);
  if (!cps) return std::move(cps).error();
  out.checkpoints = std::move(cps).value();
  return out;
}

Result<std::vector<ViewCheckpoint>> read_view_checkpoints(const std::string& path) {
  auto db = sql::Db::open(path, sql::Db::Mode::read_only);
  if (!db) return std::move(db).error();
  return checkpoints_of(**db);
}

}  // namespace causeway
