// `causeway backup` and `causeway restore` (backup_cli.cpp); the backup format
// and its guarantees are in api/backup.h.
#pragma once

#include <cstdint>
#include <string>

namespace causeway::cli {

struct BackupArgs {
  std::string to;               // new folder for the backup
  bool include_secrets = false;
  std::string master_key_file;  // copied with --include-secrets; default <data-dir>/master.key
  std::string key_snapshot_dir;  // where the key snapshot goes; default <data-dir>/key-snapshots
  std::int64_t key_snapshot_retention_days = 7;
};

// Writes a backup of a stopped server's data folder. Refuses (exit 2) while a
// server holds the folder, pointing at POST /v1/admin/backups. Prints the
// summary as JSON on stdout and, on stderr, a warning about the secrets.
int backup(const std::string& data_dir, const BackupArgs& a);
// Restores the backup at `from` into the new or empty folder `data_dir`, with
// the data keys of the key snapshot `keys` (a file, or a folder: its newest).
// Exit 3 when a backup file fails its manifest check or the snapshot its
// hash, 2 for other errors.
int restore(const std::string& from, const std::string& data_dir, const std::string& keys);

}  // namespace causeway::cli
