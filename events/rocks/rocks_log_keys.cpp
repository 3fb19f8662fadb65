// RocksEventLog::all_keys and replace_keys: the keys column family as a whole,
// for key snapshots and for data backups that hold no data key (api/backup.h).
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <fmt/format.h>

#include "events/rocks/keys.h"
#include "events/rocks/rocks_log.h"

namespace causeway {

using namespace rockskeys;

Result<std::vector<std::pair<std::string, std::string>>> RocksEventLog::all_keys() {
  if (!db_) return Error::unavailable("the log is closed");
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::vector<std::pair<std::string, std::string>> out;
  rocksdb::Status s;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kKeys]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
    s = it->status();
  }
  db_->ReleaseSnapshot(snap);
  if (!s.ok()) return Error::unavailable(fmt::format("listing the data keys failed: {}", s.ToString()));
  return out;
}

Status RocksEventLog::replace_keys(const std::vector<std::pair<std::string, std::string>>& keys) {
  if (!db_) return Error::unavailable("the log is closed");
  if (opts_.read_only) return Error::unavailable("a read-only log cannot replace its data keys");
  auto old = all_keys();
  if (!old) return std::move(old).error();
  rocksdb::WriteBatch batch;
  for (const auto& [id, _] : *old) batch.Delete(cfs_[kKeys], id);
  for (const auto& [id, value] : keys) batch.Put(cfs_[kKeys], id, value);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db_->Write(wo, &batch);
  if (!s.ok()) return Error::unavailable(fmt::format("replacing the data keys failed: {}", s.ToString()));
  // No copy of a replaced value may stay in a WAL or an SST file.
  return purge_keys();
}

}  // namespace causeway
