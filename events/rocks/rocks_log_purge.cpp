// RocksEventLog::purge_keys: no copy of an overwritten data key left on disk.
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <fmt/format.h>

#include "events/rocks/keys.h"
#include "events/rocks/rocks_log.h"

namespace causeway {

using namespace rockskeys;

Status RocksEventLog::purge_keys() {
  if (!db_) return Error::unavailable("the log is closed");
  if (opts_.read_only) return Error::unavailable("a read-only log cannot purge keys");
  // Every column family: a WAL file is deleted only once all of them have
  // flushed what it holds, and the old wrapped key may sit in any live WAL.
  rocksdb::FlushOptions fo;
  fo.wait = true;
  fo.allow_write_stall = true;
  std::vector<rocksdb::ColumnFamilyHandle*> all(cfs_.begin(), cfs_.end());
  auto s = db_->Flush(fo, all);
  if (!s.ok()) return Error::unavailable(fmt::format("flushing the log failed: {}", s.ToString()));
  // Rewrite every file of the keys column family, the bottommost level too:
  // overwritten values are dropped and the files that held them deleted.
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  co.exclusive_manual_compaction = false;
  s = db_->CompactRange(co, cfs_[kKeys], nullptr, nullptr);
  if (!s.ok()) return Error::unavailable(fmt::format("compacting the data keys failed: {}", s.ToString()));
  return ok_status();
}

}  // namespace causeway
