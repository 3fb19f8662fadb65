// RocksEventLog: the embedded EventLog (P = 1) on one RocksDB database.
//
// Column families (rocks/keys.h; docs/formats.md has every key and value layout):
//   default      unused (RocksDB requires it)
//   log          BE64 position                     -> log entry (codec.h)
//   streams      stream \0 BE64 version            -> BE64 position
//   subjects     subject \0 BE64 position          -> "" (the subject index)
//   unique       reservation key                   -> owner stream
//   idempotency  tenant \x1f actor \x1f key        -> idempotency record (expired ones
//                                                     dropped by a compaction filter)
//   aggregates   stream                            -> aggregate record
//   keys         subject or retention bucket id    -> wrapped data key or "forgotten"
//                                                     (KeyStore: own synced writes)
//   meta         "head"                            -> BE64 position || chain hash
//   counters     usage:<org>:<metric>:<yyyy-mm>    -> BE64 total (CounterAdd, limit
//                                                     checked by the writer)
//
// Lifecycle: open() recovers from the last durable state (RocksDB replays its
// WAL; the head in meta is written in the same batch as the entries, so it is
// never ahead of or behind the log). close() drains queued appends, stops the
// writer thread and closes the database; the destructor calls close().
//
// Reads after close() fail with Errc::unavailable; they must not race close().
//
// Threading: one writer thread owns all mutation (so checks of expected
// versions, reservations and idempotency keys are race-free) and groups queued
// commits into one synced WriteBatch (the checks and placement are
// place_group()'s, events/group_placement.h). Reads run on the caller's thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "events/clock.h"
#include "events/commit_queue.h"
#include "events/event_log.h"
#include "events/key_vault.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace causeway {

struct RocksLogOptions {
  std::string path;                          // database folder, created if missing
  bool sync = true;                          // fsync the WAL before acknowledging
  std::size_t max_group = 1024;              // commits per group write
  std::int64_t idempotency_retention_us = 24LL * 3600 * 1'000'000;  // 24 h
  const Clock* clock = nullptr;              // defaults to the system clock
  bool read_only = false;                    // no writer; safe beside a running server
};

class RocksEventLog final : public EventLog {
 public:
  static Result<std::unique_ptr<RocksEventLog>> open(const RocksLogOptions& opts);
  ~RocksEventLog() override;

  std::uint32_t partitions() const override { return 1; }
  std::uint32_t partition_of(std::string_view) const override { return 0; }
  void append(Commit commit, AppendDone done) override;
  Result<std::vector<Event>> read_forward(std::uint32_t partition, std::uint64_t from, std::size_t max,
                                          HashCheck check = HashCheck::verify) override;
  Result<std::optional<std::string>> reservation_owner(const std::string& key) override;
  Result<std::int64_t> counter(const std::string& key) override;
  Status scan_raw(std::uint32_t partition, std::uint64_t from, std::uint64_t to,
                  const std::function<bool(std::uint64_t, std::string_view)>& fn) override;
  Result<std::vector<Event>> read_stream(const std::string& stream, std::uint64_t from_version,
                                         std::size_t max) override;
  Result<std::vector<LogAddress>> subject_positions(const std::string& subject) override;
  Result<std::uint64_t> stream_version(const std::string& stream) override;
  Result<std::optional<AggregateSnapshot>> load_aggregate(const std::string& stream) override;
  Result<std::optional<StoredReply>> idempotent_reply(const std::string& key) override;
  PositionToken head() const override;
  std::uint64_t wait_past(std::uint32_t partition, std::uint64_t after, std::chrono::milliseconds timeout) override;
  PositionToken wait_moved(const PositionToken& seen, std::chrono::milliseconds timeout) override;
  void close() override;

  // The chain head as stored in meta (hash of the entry at head()).
  Hash chain_head(std::uint32_t partition = 0) const override;  // one partition: 0
  // Aggregate records of every stream, for `causeway log verify`.
  Result<std::vector<std::pair<std::string, AggregateSnapshot>>> all_aggregates();
  // The key store over the "keys" column family, for the KeyVault. It must not
  // be used after close().
  std::shared_ptr<KeyStore> key_store();
  // Writes a RocksDB checkpoint of the whole database (every column family,
  // data keys included; create_backup empties them in the copy) into `dir`,
  // for a backup (api/backup.h). `dir` must not exist; its parent must.
  // Immutable files are hard-linked when `dir` is on the same file system,
  // copied otherwise. Safe while the writer runs: the
  // checkpoint holds exactly the groups that were durable when it was cut, so
  // its head may be behind head() but never ahead. Works on a read-write log
  // only. Errc::conflict when `dir` exists, Errc::unavailable on I/O errors,
  // on a read-only log or after close(); must not race close().
  // (rocks_log_checkpoint.cpp)
  Status checkpoint_to(const std::string& dir);
  // After KeyVault::forget(): makes sure no copy of an overwritten wrapped key
  // survives in the database folder. Flushes every column family (so no WAL
  // file holding the old value is still live and RocksDB deletes them), then
  // compacts the keys column family down to the bottommost level (dropping
  // overwritten values and the SST files that held them), waiting for both.
  // Copies made earlier (backups, checkpoints) are not touched. Must not race
  // close(). (rocks_log_purge.cpp)
  Status purge_keys();
  // Every entry of the keys column family (id, stored value: a wrapped key or
  // the erasure marker), read from one RocksDB snapshot, ascending by id.
  // (rocks_log_keys.cpp)
  Result<std::vector<std::pair<std::string, std::string>>> all_keys();
  // Makes `keys` the whole content of the keys column family, durably, then
  // purge_keys(): no value it held before survives in the folder. For a
  // backup's copy of the log (emptied) and a restore (filled from a key
  // snapshot); must not run beside a KeyVault using this log. Errc::unavailable
  // on I/O errors, on a read-only log or after close().
  Status replace_keys(const std::vector<std::pair<std::string, std::string>>& keys);

 private:
  class WriterState;  // the LogState the writer places groups against (rocks_log_write.cpp)

  explicit RocksEventLog(const RocksLogOptions& opts);
  Status open_db();
  void writer_loop();
  void write_group(std::vector<CommitQueue::Pending>& group);
  Result<std::uint64_t> stored_stream_version(const std::string& stream);

  RocksLogOptions opts_;
  SystemClock system_clock_;
  const Clock* clock_;
  std::shared_ptr<void> expiry_;  // the idempotency compaction filter; outlives db_
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;

  // Writer state: touched only by the writer thread after open().
  std::unordered_map<std::string, std::uint64_t> heads_cache_;
  std::unordered_map<std::string, std::int64_t> counters_cache_;  // writer thread only

  // Published head, read by anyone.
  mutable std::mutex head_mu_;
  std::condition_variable head_cv_;
  std::uint64_t head_pos_ = 0;
  Hash head_hash_{};

  CommitQueue queue_;
  bool closed_ = false;
  std::thread writer_;
  std::mutex close_mu_;
};

}  // namespace causeway
