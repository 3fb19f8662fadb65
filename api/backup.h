// Backups of a data folder, and restoring one into a new data folder.
//
//   <backup>/manifest.json   written last; no manifest = an incomplete backup
//                            (format and hashes: backup_manifest.h)
//   <backup>/log/            RocksDB checkpoint of <data>/log: every column
//                            family, the data keys emptied (no value of them
//                            left in any file of the copy)
//   <backup>/views.db        the current views generation, one SQLite file
//   <backup>/master.key      only with include_secrets (mode 0600)
//   <backup>/admin.token     only with include_secrets (mode 0600)
//
// Consistency: the views are copied first (one SQLite read transaction), the
// log second (a RocksDB checkpoint), so the views copy is never ahead of the
// log copy; after a restore the projection runtime catches the views up from
// their checkpoints, as at any start. Both copies are independent files (hard
// links to the live SST files are replaced by copies), folder mode 0700.
//
// Data keys stay out: each backup writes a key snapshot (api/key_snapshots.h)
// after its data, and a restore takes the keys from the newest snapshot. An
// erasure deletes the snapshots that held the subject's key, so no backup
// taken before it can be read for that subject again (docs/operations.md).
//
// Secrets stay out by default: the personal data in a backup is sealed, and a
// restore needs the master key it was sealed with (serve --master-key-file, or
// copy it to <data>/master.key). Without the key a server would generate a new
// one and the restored personal fields would not open.
//
// Thread safety: free functions; create_backup may run beside a serving Node
// (the log and the views keep being written), on any thread but an I/O thread.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "events/position.h"
#include "events/result.h"

namespace causeway {

class KeySnapshots;
class RocksEventLog;

struct BackupOptions {
  std::string data_dir;
  std::string target;            // absolute; must not exist; its parent must
  bool include_secrets = false;
  std::string master_key_file;   // copied as master.key with include_secrets, when it exists
  std::string admin_token_file;  // copied as admin.token with include_secrets, when it exists
  KeySnapshots* key_snapshots = nullptr;  // required: written once the data is copied
};

struct RestoreOptions {
  std::string from;          // the backup folder
  std::string data_dir;      // new or empty
  std::string keys;          // a key snapshot, or a folder of them (its newest); required for version 2 backups
};

struct BackupSummary {
  std::string path;
  PositionToken log_position;    // the head of the log copy
  PositionToken views_position;  // the lowest projection checkpoint of the views copy
  bool has_views = false;
  std::size_t files = 0;         // manifest.json not counted
  std::uint64_t bytes = 0;
  std::vector<std::string> secrets;  // secret files copied: empty unless include_secrets
  std::string key_snapshot;          // written by the backup, or restored from
  std::size_t keys = 0;              // restore: the data keys restored
  bool keys_from_backup = false;     // restore: a version 1 backup's own keys kept
};

// The normalised backup folder for `target`, or why a backup there is refused:
// Errc::invalid for a relative path or a missing parent, Errc::conflict when it
// exists. Reads only; callers check before opening anything they would write.
Result<std::string> check_backup_target(const std::string& target);

// Writes a backup of `opts.data_dir` into `opts.target`. `log` is the open,
// read-write log of that data folder (a serving Node's, or one the CLI opened
// with the server stopped). On failure nothing is left at `target`, and a
// refusal (check_backup_target) creates nothing at all.
// Errc::invalid for a relative target or a missing parent, Errc::conflict when
// `target` exists, Errc::unavailable on I/O errors.
Result<BackupSummary> create_backup(RocksEventLog& log, const BackupOptions& opts);

// Checks every file of the backup at `opts.from` against its manifest (size
// and BLAKE2b) and the key snapshot `opts.keys` (its hash, and a position
// that covers the backup's), and only then restores them into
// `opts.data_dir` (created if missing; it must be empty): the log checkpoint
// to <data>/log with the snapshot's keys as its only data keys, the views to
// <data>/views/gen-000001.db published as the current generation, and any
// secrets (0600). Finally the restored log is opened read-only and its head
// and chain hash compared with the manifest. A version 1 backup (keys in its
// log copy) keeps its own keys when no snapshot is given.
// Errc::not_found when `from` has no manifest or `keys` no snapshot,
// Errc::invalid for a manifest or snapshot of another format or version, a
// version 2 backup without `keys`, or a snapshot older than the backup;
// Errc::corruption naming the first file that is missing or does not match,
// Errc::conflict when `data_dir` is not empty, Errc::unavailable on I/O
// errors. A refusal creates nothing; on a later failure what was restored is
// removed.
Result<BackupSummary> restore_backup(const RestoreOptions& opts);

// The summary as JSON (the route's reply and the CLI's output).
boost::json::object to_json(const BackupSummary& s);

}  // namespace causeway
