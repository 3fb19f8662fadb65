// RocksEventLog: opening, reading and closing. Writing is in rocks_log_write.cpp.
#include "events/rocks/rocks_log.h"

#include <limits>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>

#include <cstring>
#include <fmt/format.h>

#include "events/codec.h"
#include "events/rocks/keys.h"
#include "events/records.h"

namespace causeway {
using namespace rockskeys;
namespace {

Error from_rocks(const rocksdb::Status& s, std::string_view what) {
  if (s.IsCorruption()) return Error::corruption(fmt::format("{}: {}", what, s.ToString()));
  return Error::unavailable(fmt::format("{}: {}", what, s.ToString()));
}

// Drops idempotency records older than the retention window at compaction.
// Lookups check the age too, so an expired record that compaction has not yet
// reached is still ignored.
class IdempotencyExpiry final : public rocksdb::CompactionFilter {
 public:
  IdempotencyExpiry(const Clock* clock, std::int64_t retention_us) : clock_(clock), retention_us_(retention_us) {}
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value, std::string*, bool*) const override {
    auto rec = decode_idempotency(std::string_view(value.data(), value.size()));
    return rec && clock_->now_us() - rec->created_at_us > retention_us_;
  }
  const char* Name() const override { return "causeway.IdempotencyExpiry"; }

 private:
  const Clock* clock_;
  std::int64_t retention_us_;
};

class RocksKeyStore final : public KeyStore {
 public:
  RocksKeyStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) : db_(db), cf_(cf) {}
  Result<std::optional<std::string>> get(const std::string& subject) override {
    std::string v;
    auto s = db_->Get(rocksdb::ReadOptions(), cf_, subject, &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return from_rocks(s, "reading a data key");
    return std::optional<std::string>(std::move(v));
  }
  Status put_sync(const std::string& subject, const std::string& wrapped) override {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    auto s = db_->Put(wo, cf_, subject, wrapped);
    if (!s.ok()) return from_rocks(s, "writing a data key");
    return ok_status();
  }
  Status erase_sync(const std::string& subject) override {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    auto s = db_->Delete(wo, cf_, subject);
    if (!s.ok()) return from_rocks(s, "erasing a data key");
    return ok_status();
  }
  Result<std::vector<std::string>> ids_between(const std::string& first, const std::string& last) override {
    std::vector<std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_));
    for (it->Seek(first); it->Valid() && it->key().compare(last) < 0; it->Next()) out.push_back(it->key().ToString());
    if (!it->status().ok()) return from_rocks(it->status(), "listing data keys");
    return out;
  }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
};

}  // namespace

RocksEventLog::RocksEventLog(const RocksLogOptions& opts)
    : opts_(opts), clock_(opts.clock ? opts.clock : &system_clock_), queue_(opts.max_group) {}

Result<std::unique_ptr<RocksEventLog>> RocksEventLog::open(const RocksLogOptions& opts) {
  std::unique_ptr<RocksEventLog> log(new RocksEventLog(opts));
  if (auto st = log->open_db(); !st) return std::move(st).error();
  if (!opts.read_only) log->writer_ = std::thread([l = log.get()] { l->writer_loop(); });
  else log->queue_.close();  // append() answers "closed"
  return log;
}

Status RocksEventLog::open_db() {
  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  dbo.max_background_jobs = 2;
  dbo.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;

  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions base;
  base.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  auto expiry = std::make_shared<IdempotencyExpiry>(clock_, opts_.idempotency_retention_us);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (std::size_t i = 0; i < kCount; ++i) {
    rocksdb::ColumnFamilyOptions o = base;
    if (i == kIdempotency) o.compaction_filter = expiry.get();
    descs.emplace_back(kCfNames[i], o);
  }
  expiry_ = expiry;
  rocksdb::DB* raw = nullptr;
  auto s = opts_.read_only ? rocksdb::DB::OpenForReadOnly(dbo, opts_.path, descs, &cfs_, &raw)
                           : rocksdb::DB::Open(dbo, opts_.path, descs, &cfs_, &raw);
  if (!s.ok()) return from_rocks(s, fmt::format("opening the log at {}", opts_.path));
  db_.reset(raw);

  std::string head;
  s = db_->Get(rocksdb::ReadOptions(), cfs_[kMeta], "head", &head);
  if (s.ok()) {
    if (head.size() != 8 + 32) return Error::corruption("meta head record has the wrong size");
    head_pos_ = get_be64(head);
    std::memcpy(head_hash_.data(), head.data() + 8, 32);
  } else if (!s.IsNotFound()) {
    return from_rocks(s, "reading the log head");
  }
  return ok_status();
}

RocksEventLog::~RocksEventLog() { close(); }

void RocksEventLog::close() {
  std::lock_guard cl(close_mu_);
  if (closed_) return;
  queue_.close();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lk(head_mu_);
    closed_ = true;
  }
  head_cv_.notify_all();
  if (db_) {
    for (auto* cf : cfs_) db_->DestroyColumnFamilyHandle(cf);
    cfs_.clear();
    db_->Close().PermitUncheckedError();
    db_.reset();
  }
}

PositionToken RocksEventLog::head() const {
  std::lock_guard lk(head_mu_);
  return PositionToken{{head_pos_}};
}

Hash RocksEventLog::chain_head(std::uint32_t) const {
  std::lock_guard lk(head_mu_);
  return head_hash_;
}

std::uint64_t RocksEventLog::wait_past(std::uint32_t, std::uint64_t after, std::chrono::milliseconds timeout) {
  std::unique_lock lk(head_mu_);
  head_cv_.wait_for(lk, timeout, [&] { return head_pos_ > after || closed_; });
  return head_pos_;
}

PositionToken RocksEventLog::wait_moved(const PositionToken& seen, std::chrono::milliseconds timeout) {
  return PositionToken{{wait_past(0, seen.offsets.empty() ? 0 : seen.offsets[0], timeout)}};
}

Result<std::vector<Event>> RocksEventLog::read_forward(std::uint32_t partition, std::uint64_t from, std::size_t max,
                                                       HashCheck check) {
  if (!db_) return Error::unavailable("the log is closed");
  if (partition != 0) return Error::invalid("the embedded log has one partition");
  std::vector<Event> out;
  out.reserve(std::min<std::size_t>(max, 4096));
  rocksdb::ReadOptions ro;
  ro.readahead_size = 2 << 20;  // forward scans: read ahead in large chunks
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kLog]));
  for (it->Seek(be64(from)); it->Valid() && out.size() < max; it->Next()) {
    auto e = decode_entry(std::string_view(it->value().data(), it->value().size()), check);
    if (!e) return std::move(e).error();
    out.push_back(std::move(e).value());
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading the log");
  return out;
}

Result<std::optional<std::string>> RocksEventLog::reservation_owner(const std::string& key) {
  if (!db_) return Error::unavailable("the log is closed");
  std::string owner;
  auto s = db_->Get(rocksdb::ReadOptions(), cfs_[kUnique], key, &owner);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return from_rocks(s, "reading a reservation");
  return std::optional<std::string>(std::move(owner));
}

Result<std::int64_t> RocksEventLog::counter(const std::string& key) {
  if (!db_) return Error::unavailable("the log is closed");
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), cfs_[kCounters], key, &v);
  if (s.IsNotFound()) return std::int64_t{0};
  if (!s.ok()) return from_rocks(s, "reading a counter");
  if (v.size() != 8) return Error::corruption("a counter record has the wrong size");
  return static_cast<std::int64_t>(get_be64(v));
}

Status RocksEventLog::scan_raw(std::uint32_t partition, std::uint64_t from, std::uint64_t to,
                               const std::function<bool(std::uint64_t, std::string_view)>& fn) {
  if (!db_) return Error::unavailable("the log is closed");
  if (partition != 0) return Error::invalid("the embedded log has one partition");
  rocksdb::ReadOptions ro;
  ro.readahead_size = 2 << 20;
  const std::string upper = be64(to + 1);
  rocksdb::Slice upper_slice(upper);
  if (to != std::numeric_limits<std::uint64_t>::max()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kLog]));
  for (it->Seek(be64(from)); it->Valid(); it->Next()) {
    auto k = it->key();
    if (k.size() != 8) return Error::corruption("a log key is not 8 bytes");
    if (!fn(get_be64(std::string_view(k.data(), 8)), std::string_view(it->value().data(), it->value().size())))
      break;
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading the log");
  return ok_status();
}

Result<std::vector<Event>> RocksEventLog::read_stream(const std::string& stream, std::uint64_t from_version,
                                                      std::size_t max) {
  if (!db_) return Error::unavailable("the log is closed");
  std::vector<Event> out;
  std::string prefix = stream;
  prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kStreams]));
  for (it->Seek(scoped(stream, from_version)); it->Valid() && out.size() < max; it->Next()) {
    auto k = it->key();
    if (k.size() != prefix.size() + 8 || !k.starts_with(prefix)) break;
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), cfs_[kLog], be64(get_be64(std::string_view(it->value().data(), 8))),
                      &value);
    if (!s.ok()) return from_rocks(s, "stream index points at a missing entry");
    auto e = decode_entry(value);
    if (!e) return std::move(e).error();
    out.push_back(std::move(e).value());
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading a stream");
  return out;
}

Result<std::vector<LogAddress>> RocksEventLog::subject_positions(const std::string& subject) {
  if (!db_) return Error::unavailable("the log is closed");
  std::vector<LogAddress> out;
  std::string prefix = subject;
  prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kSubjects]));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    auto k = it->key();
    if (k.size() != prefix.size() + 8 || !k.starts_with(prefix)) break;
    out.push_back(LogAddress{0, get_be64(std::string_view(k.data() + prefix.size(), 8))});
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading the subject index");
  return out;
}

Result<std::uint64_t> RocksEventLog::stream_version(const std::string& stream) { return stored_stream_version(stream); }

Result<std::uint64_t> RocksEventLog::stored_stream_version(const std::string& stream) {
  if (!db_) return Error::unavailable("the log is closed");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kStreams]));
  it->SeekForPrev(scoped(stream, ~std::uint64_t{0}));
  if (!it->status().ok()) return from_rocks(it->status(), "reading a stream head");
  if (!it->Valid()) return std::uint64_t{0};
  auto k = it->key();
  if (k.size() != stream.size() + 9 || !k.starts_with(stream) || k[stream.size()] != '\0') return std::uint64_t{0};
  return get_be64(std::string_view(k.data() + stream.size() + 1, 8));
}

Result<std::optional<AggregateSnapshot>> RocksEventLog::load_aggregate(const std::string& stream) {
  if (!db_) return Error::unavailable("the log is closed");
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), cfs_[kAggregates], stream, &v);
  if (s.IsNotFound()) return std::optional<AggregateSnapshot>();
  if (!s.ok()) return from_rocks(s, "reading an aggregate record");
  auto snap = decode_aggregate(v);
  if (!snap) return Error::corruption(fmt::format("aggregate record of {} does not decode", stream));
  return std::optional<AggregateSnapshot>(std::move(*snap));
}

Result<std::vector<std::pair<std::string, AggregateSnapshot>>> RocksEventLog::all_aggregates() {
  std::vector<std::pair<std::string, AggregateSnapshot>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kAggregates]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto snap = decode_aggregate(std::string_view(it->value().data(), it->value().size()));
    if (!snap) return Error::corruption("an aggregate record does not decode");
    out.emplace_back(it->key().ToString(), std::move(*snap));
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading aggregate records");
  return out;
}

Result<std::optional<EventLog::StoredReply>> RocksEventLog::idempotent_reply(const std::string& key) {
  if (!db_) return Error::unavailable("the log is closed");
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), cfs_[kIdempotency], key, &v);
  if (s.IsNotFound()) return std::optional<StoredReply>();
  if (!s.ok()) return from_rocks(s, "reading an idempotency key");
  auto rec = decode_idempotency(v);
  if (!rec) return Error::corruption("an idempotency record does not decode");
  if (clock_->now_us() - rec->created_at_us > opts_.idempotency_retention_us) return std::optional<StoredReply>();
  return std::optional<StoredReply>(StoredReply{std::move(rec->fingerprint), std::move(rec->response)});
}

std::shared_ptr<KeyStore> RocksEventLog::key_store() { return std::make_shared<RocksKeyStore>(db_.get(), cfs_[kKeys]); }

}  // namespace causeway
