// ViewFiles: the generations of the views database inside the data folder.
//
//   <data>/views.db            symlink to the current generation (open this
//                              with the sqlite3 shell)
//   <data>/views/gen-<N>.db    one SQLite database (WAL) per generation
//   <data>/views/LOCK          held (flock) by the process that writes views
//
// A rebuild writes a new generation beside the current one and publishes it
// by replacing the symlink atomically (rename), so readers never see a half
// built view, and connections already open keep reading the old file until
// they close. A crash before publish leaves the old generation current; the
// orphan is removed at the next open.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <string>
#include <vector>

#include "events/result.h"

namespace causeway {

class ViewFiles {
 public:
  explicit ViewFiles(std::string data_dir);
  ~ViewFiles();

  std::string link_path() const { return data_dir_ + "/views.db"; }
  std::string dir() const { return data_dir_ + "/views"; }

  // The current generation's file, Errc::not_found when none was published.
  Result<std::string> current() const;
  // A path for a new generation that no other process holds.
  Result<std::string> create_generation() const;
  // Makes `gen` (fully written) the current generation, durably: the file and
  // the folder are fsynced before and after the symlink is replaced.
  Status publish(const std::string& gen) const;
  // Deletes every generation not in `keep`, with its -wal/-shm files.
  void remove_others(const std::vector<std::string>& keep) const;

  // Takes the writer lock (non-blocking); Errc::conflict while another process
  // holds it. Released by the destructor.
  Status lock_writer();

 private:
  std::string data_dir_;
  int lock_fd_ = -1;
};

// fsyncs a file by path (used before publishing a generation).
Status fsync_path(const std::string& path);

}  // namespace causeway
