// Key snapshots: the data keys, kept apart from the data backups so that an
// erasure reaches every backup (docs/operations.md, "Backups and erasure").
//
// A data backup holds no data key (api/backup.h, manifest version 2). The
// keys live in the key snapshot folder (default <data>/key-snapshots), one
// file per snapshot:
//   keys-<20-digit microseconds since the epoch>.json   mode 0600
//   {"format":"causeway-keys","version":1,"created_at":"<RFC 3339>",
//    "log_position":"<token>",
//    "keys":[["<id>","<base64 of the stored value>"], ...],
//    "blake2b_256":"<hex BLAKE2b-256 of the serialized keys array>"}
// A value is what the key store holds: a data key wrapped under the master
// key, or the marker of an erased subject. `log_position` is the log's head
// read before the keys: every key that an event up to it uses is in the file
// (a key is stored before the commit that uses it), so the snapshot can
// restore any data backup whose log position it covers.
//
// Written: by every backup (after its data is copied), and after every
// erasure or retention expiry (KeyVault::forget, destroy_bucket). Kept: after
// a write, every snapshot older than the retention is deleted, the newest
// always kept; after an erasure every older snapshot is deleted at once, so
// no file in the folder holds the destroyed key. Copies made elsewhere are the
// operator's to expire (docs/operations.md states the bound).
//
// Thread safety: KeySnapshots' methods may be called from any thread; writes
// are serialised, so a snapshot cut while an erasure runs is deleted by the
// write that follows the erasure.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "events/clock.h"
#include "events/position.h"
#include "events/result.h"

namespace causeway {

class RocksEventLog;

struct KeySnapshotInfo {
  std::string path;
  PositionToken log_position;
  std::size_t keys = 0;
};

class KeySnapshots {
 public:
  struct Options {
    std::string dir;                                  // created (0700) when missing
    std::int64_t retention_us = 7LL * 86400 * 1'000'000;
    const Clock* clock = nullptr;                     // defaults to the system clock
  };
  // `log` must outlive this object; it is read, never written.
  KeySnapshots(RocksEventLog& log, Options opts);

  // A new snapshot of every key, then the expired ones deleted.
  // Errc::unavailable on I/O errors.
  Result<KeySnapshotInfo> write();
  // After a key was destroyed: a new snapshot, then every older one deleted.
  Result<KeySnapshotInfo> write_after_erasure();

 private:
  Result<KeySnapshotInfo> write_locked(bool drop_all_older);
  RocksEventLog& log_;
  Options opts_;
  SystemClock system_clock_;
  std::mutex mu_;
};

struct KeySnapshot {
  std::string path;
  std::string created_at;
  PositionToken log_position;
  std::vector<std::pair<std::string, std::string>> keys;  // id, stored value
};

// Reads and checks the snapshot at `path`, or the newest one when `path` is a
// folder. Errc::not_found when there is none, Errc::invalid for a file of
// another format or version, Errc::corruption when its hash does not match.
Result<KeySnapshot> read_key_snapshot(const std::string& path);

}  // namespace causeway
