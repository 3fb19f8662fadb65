// The manifest of a backup folder and the file helpers that fill and check it
// (used by backup.cpp and restore.cpp; the layout is in backup.h).
//
// manifest.json, format version 2 (version 1 also restores):
//   {"format":"causeway-backup","version":1,"created_at":"<RFC 3339>",
//    "log":{"position":"<token>","chain_head":"<64 hex>"},
//    "views":{"generation":"gen-000003.db","position":"<token>",
//             "checkpoints":[{"projection","partition","position"}]} | null,
//    "secrets":["master.key","admin.token"],        // [] unless asked for
//    "files":[{"path":"log/000012.sst","bytes":N,"blake2b_256":"<64 hex>"}]}
// Paths are relative to the backup folder, '/'-separated, sorted. Every file
// of the backup except manifest.json is listed; "blake2b_256" is unkeyed
// BLAKE2b with a 32-byte output (libsodium crypto_generichash).
// Version 1 backups hold the data keys in their log copy; version 2 backups
// hold none (the keys column family of the copy is empty): a restore takes
// them from a key snapshot (api/key_snapshots.h).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "events/position.h"
#include "events/result.h"
#include "projections/view_backup.h"

namespace causeway::backup {

inline constexpr int kManifestVersion = 2;
inline constexpr const char* kManifestName = "manifest.json";

struct ManifestFile {
  std::string path;  // relative to the backup folder
  std::uint64_t bytes = 0;
  std::string blake2b_256;  // hex
};

struct Manifest {
  int version = kManifestVersion;
  std::string created_at;
  PositionToken log_position;
  std::string chain_head;  // hex
  bool has_views = false;
  std::string views_generation;
  PositionToken views_position;  // per partition, the lowest projection checkpoint
  std::vector<ViewCheckpoint> view_checkpoints;
  std::vector<std::string> secrets;
  std::vector<ManifestFile> files;
  // Version 1 backups carry the data keys in their log copy.
  bool holds_data_keys() const { return version < 2; }
};

std::string manifest_json(const Manifest& m);
// Errc::invalid for malformed JSON, another format, another version or a
// path that is absolute, has "." or ".." parts or is not a backup file.
Result<Manifest> parse_manifest(std::string_view text);

// Unkeyed BLAKE2b-256 of `bytes`, as hex.
std::string blake2b_hex(std::string_view bytes);
// Size and BLAKE2b of `root`/`rel`. Errc::unavailable when unreadable.
Result<ManifestFile> describe_file(const std::string& root, const std::string& rel);
// Copies `from` to the new file `to` (O_EXCL, `mode`), fsyncs it, and returns
// the BLAKE2b of the bytes copied. Errc::unavailable on I/O errors.
Result<std::string> copy_file_hashed(const std::string& from, const std::string& to, mode_t mode);
// Every regular file under `root`, as sorted relative paths. Errc::unavailable
// when the folder cannot be read.
Result<std::vector<std::string>> list_files(const std::string& root);
// Creates the new file `path` (O_EXCL, `mode`) holding `content`, fsynced.
Status write_new_file(const std::string& path, std::string_view content, mode_t mode);
// fsyncs a folder, so the entries created in it survive power loss.
Status sync_dir(const std::string& dir);
// The per-partition minimum of `cps` over `partitions` partitions (0 where none).
PositionToken lowest(const std::vector<ViewCheckpoint>& cps, std::size_t partitions);

}  // namespace causeway::backup
