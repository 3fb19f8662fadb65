#include "tools/backup_cli.h"

#include "tools/cli_common.h"

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <iostream>

#include "api/backup.h"
#include "api/key_snapshots.h"
#include "events/rocks/rocks_log.h"
#include "projections/view_files.h"

namespace causeway::cli {
namespace fs = std::filesystem;

namespace {

int server_running(const std::string& data_dir, const std::string& why) {
  std::cerr << "causeway: " << why << "\n"
            << "causeway: while a server runs, take the backup through it:\n"
            << "  curl -X POST -H \"Authorization: Bearer $(cat " << data_dir << "/admin.token)\" "
            << "-H 'Content-Type: application/json' \\\n"
            << "       -d '{\"path\": \"/absolute/new/folder\"}' http://127.0.0.1:8080/v1/admin/backups\n";
  return 2;
}

void warn_secrets(const BackupSummary& s, bool backup) {
  bool has_key = false;
  for (const auto& n : s.secrets) has_key = has_key || n == "master.key";
  if (has_key) {
    std::cerr << "causeway: WARNING: " << (backup ? "this backup CONTAINS" : "restored")
              << " the master key (master.key, mode 0600). Anyone who can read "
              << (backup ? "the backup" : "it") << " can read every personal field. Store it encrypted.\n";
    return;
  }
  if (backup) {
    std::cerr << "causeway: WARNING: this backup does NOT contain the master key (master.key) or the admin token.\n"
              << "causeway: Keep the master key safe separately: personal data in the backup is sealed with it, and\n"
              << "causeway: a restored server needs the SAME key (serve --master-key-file, or copy it to\n"
              << "causeway: <data-dir>/master.key). Use --include-secrets to copy it into the backup.\n";
  } else {
    std::cerr << "causeway: WARNING: the backup held no master key. Before serving, give the server the SAME\n"
              << "causeway: master key (--master-key-file, or copy it to <data-dir>/master.key); otherwise it\n"
              << "causeway: generates a new one and the restored personal data cannot be opened.\n";
  }
}

}  // namespace

int backup(const std::string& data_dir, const BackupArgs& a) {
  std::error_code ec;
  if (!fs::exists(data_dir + "/log/CURRENT", ec)) {
    std::cerr << "causeway: " << data_dir << " holds no log (" << data_dir << "/log)\n";
    return 2;
  }
  // Refusals come before the log is opened: opening it read-write rewrites
  // RocksDB's own files in the data folder.
  const std::string target = fs::absolute(a.to, ec).string();
  if (auto checked = check_backup_target(target); !checked) return fail(checked.error());
  if (auto free = not_in_use(data_dir); !free) return server_running(data_dir, free.error().message);
  // The views writer lock before the log: a server (or a rebuild) holds it,
  // and holding it keeps the views generation still while it is copied.
  ViewFiles files(data_dir);
  if (auto st = files.lock_writer(); !st) return server_running(data_dir, st.error().message);
  auto log = open_log(data_dir, false);
  if (!log) return is_in_use(log.error()) ? server_running(data_dir, log.error().message) : fail(log.error());
  BackupOptions opts;
  opts.data_dir = data_dir;
  opts.target = target;
  opts.include_secrets = a.include_secrets;
  opts.master_key_file = a.master_key_file.empty() ? data_dir + "/master.key" : a.master_key_file;
  opts.admin_token_file = data_dir + "/admin.token";
  KeySnapshots::Options ko;
  ko.dir = a.key_snapshot_dir.empty() ? data_dir + "/key-snapshots" : a.key_snapshot_dir;
  ko.retention_us = a.key_snapshot_retention_days * 86400LL * 1'000'000;
  KeySnapshots snapshots(**log, ko);
  opts.key_snapshots = &snapshots;
  auto made = create_backup(**log, opts);
  (*log)->close();
  if (!made) return fail(made.error());
  print_json(to_json(*made));
  warn_secrets(*made, true);
  std::cerr << "causeway: the data keys are NOT in the backup: they are in the key snapshot " << made->key_snapshot
            << "\ncauseway: (a restore needs it, or any newer one). Keep key snapshots apart from the backups and for\n"
            << "causeway: no longer than your erasure bound: an erased subject stays readable in old backups for as\n"
            << "causeway: long as a snapshot taken before the erasure exists anywhere.\n";
  return 0;
}

int restore(const std::string& from, const std::string& data_dir, const std::string& keys) {
  RestoreOptions opts;
  opts.from = from;
  opts.data_dir = data_dir;
  opts.keys = keys;
  auto done = restore_backup(opts);
  if (!done) return fail(done.error());
  print_json(to_json(*done));
  warn_secrets(*done, false);
  if (done->keys_from_backup)
    std::cerr << "causeway: WARNING: this backup was taken by an older causeway and holds its own data keys, those of\n"
              << "causeway: subjects erased since included. Restore it with --keys (the newest key snapshot) so that\n"
              << "causeway: they stay erased.\n";
  // A restored copy would otherwise resume the original's work: retry its
  // workflow actions, fire its timers, send its mail.
  std::cerr << "causeway: to inspect the copy without acting on the world (no workflow actions, timers or mail;\n"
            << "causeway: every command refused), start it with: causeway serve --read-only --data-dir " << data_dir
            << '\n';
  return 0;
}

}  // namespace causeway::cli
