// `causeway backup` and `causeway restore` (backup_cli.cpp); the backup format
// and its guarantees are in api/backup.h.
#pragma once

#include <string>

namespace causeway::cli {

struct BackupArgs {
  std::string to;               // new folder for the backup
  bool include_secrets = false;
  std::string master_key_file;  // copied with --include-secrets; default <data-dir>/master.key
};

// Writes a backup of a stopped server's data folder. Refuses (exit 2) while a
// server holds the folder, pointing at POST /v1/admin/backups. Prints the
// summary as JSON on stdout and, on stderr, a warning about the secrets.
int backup(const std::string& data_dir, const BackupArgs& a);
// Restores the backup at `from` into the new or empty folder `data_dir`.
// Exit 3 when a backup file fails its manifest check, 2 for other errors.
int restore(const std::string& from, const std::string& data_dir);

}  // namespace causeway::cli
