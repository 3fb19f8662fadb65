// Copying the views database for a backup (api/backup.h owns the backup
// folder and its manifest; this file owns the SQLite calls).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "events/result.h"

namespace causeway {

// One row of a views database's _checkpoints table: what `projection` has
// applied of `partition`.
struct ViewCheckpoint {
  std::string projection;
  std::uint32_t partition = 0;
  std::uint64_t position = 0;
};

struct ViewsCopy {
  std::string generation;  // file name of the generation copied, e.g. "gen-000003.db"
  std::vector<ViewCheckpoint> checkpoints;  // as stored in the copy
};

// Copies the current views generation of `data_dir` into the new file `dest`
// with the SQLite online backup API, in one read transaction on a read-only
// connection: a consistent snapshot, taken while the projection worker keeps
// writing (it is never blocked: the views are in WAL mode). The copy is a
// self-contained database in rollback-journal mode (no -wal beside it),
// fsynced, and its checkpoints are read back from it.
//
// Errc::not_found when no generation is published, Errc::conflict when `dest`
// exists, Errc::unavailable on I/O errors or when a rebuild removed the
// generation while it was being opened (retry). On failure `dest` may exist
// partly written; the caller removes it. Safe from any thread, beside a server.
Result<ViewsCopy> copy_views(const std::string& data_dir, const std::string& dest);

// The checkpoints stored in the views database file `path` (opened read-only).
Result<std::vector<ViewCheckpoint>> read_view_checkpoints(const std::string& path);

}  // namespace causeway
