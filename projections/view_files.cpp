#include "projections/view_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

#include "events/key_vault.h"  // sync_parent_dir

namespace causeway {
namespace fs = std::filesystem;

ViewFiles::ViewFiles(std::string data_dir) : data_dir_(std::move(data_dir)) {}

ViewFiles::~ViewFiles() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::string> ViewFiles::current() const {
  std::error_code ec;
  auto target = fs::read_symlink(link_path(), ec);
  if (ec) return Error::not_found("no views generation has been published");
  fs::path p = target.is_absolute() ? target : fs::path(data_dir_) / target;
  if (!fs::exists(p, ec)) return Error::corruption(fmt::format("views.db points at a missing file {}", p.string()));
  return p.string();
}

Result<std::string> ViewFiles::create_generation() const {
  std::error_code ec;
  fs::create_directories(dir(), ec);
  if (ec) return Error::unavailable(fmt::format("cannot create {}: {}", dir(), ec.message()));
  unsigned long next = 1;
  for (auto& entry : fs::directory_iterator(dir(), ec)) {
    auto name = entry.path().filename().string();
    unsigned long n = 0;
    if (std::sscanf(name.c_str(), "gen-%lu.db", &n) == 1) next = std::max(next, n + 1);
  }
  for (;; ++next) {
    std::string path = fmt::format("{}/gen-{:06}.db", dir(), next);
    int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
      return path;
    }
    if (errno != EEXIST) return Error::unavailable(fmt::format("cannot create {}", path));
  }
}

Status fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::unavailable(fmt::format("cannot open {} to sync it", path));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error::unavailable(fmt::format("fsync of {} failed", path));
  return ok_status();
}

Status ViewFiles::publish(const std::string& gen) const {
  if (auto st = fsync_path(gen); !st) return st;
  if (!sync_parent_dir(gen)) return Error::unavailable("cannot sync the views folder");
  const std::string tmp = link_path() + ".tmp";
  ::unlink(tmp.c_str());
  // Relative target, so the data folder can be moved or restored elsewhere.
  std::string rel = "views/" + fs::path(gen).filename().string();
  if (::symlink(rel.c_str(), tmp.c_str()) != 0) return Error::unavailable("cannot create the views.db link");
  if (::rename(tmp.c_str(), link_path().c_str()) != 0) return Error::unavailable("cannot replace views.db");
  if (!sync_parent_dir(link_path())) return Error::unavailable("cannot sync the data folder");
  return ok_status();
}

void ViewFiles::remove_others(const std::vector<std::string>& keep) const {
  std::error_code ec;
  std::vector<std::string> kept;
  for (const auto& k : keep) kept.push_back(fs::path(k).filename().string());
  for (auto& entry : fs::directory_iterator(dir(), ec)) {
    auto name = entry.path().filename().string();
    if (name.rfind("gen-", 0) != 0) continue;
    bool keep_it = std::any_of(kept.begin(), kept.end(), [&](const std::string& k) {
      return name == k || name.rfind(k + "-", 0) == 0;  // the file and its -wal/-shm
    });
    if (!keep_it) fs::remove(entry.path(), ec);
  }
}

Status ViewFiles::lock_writer() {
  std::error_code ec;
  fs::create_directories(dir(), ec);
  const std::string path = dir() + "/LOCK";
  int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return Error::unavailable(fmt::format("cannot open {}", path));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Error::conflict("another process (a running server?) is writing the views");
  }
  lock_fd_ = fd;
  return ok_status();
}

}  // namespace causeway
