// RocksEventLog::checkpoint_to: a consistent copy of the database for backups.
#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>

#include <filesystem>
#include <fmt/format.h>

#include "events/rocks/rocks_log.h"

namespace causeway {

Status RocksEventLog::checkpoint_to(const std::string& dir) {
  if (!db_) return Error::unavailable("the log is closed");
  if (opts_.read_only) return Error::unavailable("a read-only log cannot take a checkpoint");
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) return Error::conflict(fmt::format("{} already exists", dir));
  rocksdb::Checkpoint* raw = nullptr;
  auto s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!s.ok()) return Error::unavailable(fmt::format("cannot start a checkpoint: {}", s.ToString()));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush = 0: flush the memtables first, so the checkpoint is
  // mostly SST files and opens without a long WAL replay.
  s = checkpoint->CreateCheckpoint(dir, 0);
  if (!s.ok()) return Error::unavailable(fmt::format("checkpoint of the log into {} failed: {}", dir, s.ToString()));
  return ok_status();
}

}  // namespace causeway
