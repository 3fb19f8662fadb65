// replay: reads and decodes the whole log with RocksEventLog::read_forward in
// batches of 4096 (every entry's hash is checked by decode_entry), against a
// raw RocksDB iteration over the same "log" column family bytes with no
// decoding, on a log of BENCH_REPLAY_EVENTS events written fast (sync = false).
#include <fmt/format.h>
#include <rocksdb/db.h>

#include <cmath>
#include <semaphore>
#include <stdexcept>

#include "bench/benches.h"
#include "engine/audit/verify_export.h"
#include "events/rocks/rocks_log.h"

namespace causeway::bench {
namespace {

constexpr std::size_t kBatch = 4096;

// Appends `n` one-event commits over 1024 streams with up to 8192 in flight.
double fill(const Settings& s, const std::string& path, std::uint64_t n) {
  RocksLogOptions lo;
  lo.path = path;
  lo.sync = false;
  auto log = RocksEventLog::open(lo);
  if (!log) throw std::runtime_error("opening the log: " + log.error().message);
  std::counting_semaphore<> room(8192);
  std::atomic<std::uint64_t> failed{0};
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    room.acquire();
    Commit c;
    c.events.push_back(make_event(fmt::format("bench-{}", i % 1024), i + 1, s.payload));
    (*log)->append(std::move(c), [&](Result<Committed> r) {
      if (!r) failed.fetch_add(1, std::memory_order_relaxed);
      room.release();
    });
  }
  (*log)->close();  // drains the queue
  const double secs = seconds_since(t0);
  if (failed) throw std::runtime_error(fmt::format("filling the log: {} appends failed", failed.load()));
  return static_cast<double>(n) / secs;
}

// Flushes every column family to SST files, as a long-lived log would be, so
// neither pass pays for replaying the WAL into a memtable at open.
void flush_all(const std::string& path) {
  rocksdb::DBOptions dbo;
  std::vector<std::string> names;
  auto st = rocksdb::DB::ListColumnFamilies(dbo, path, &names);
  if (!st.ok()) throw std::runtime_error("listing column families: " + st.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& n : names) descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  rocksdb::DB* raw = nullptr;
  st = rocksdb::DB::Open(dbo, path, descs, &cfs, &raw);
  if (!st.ok()) throw std::runtime_error("raw RocksDB open: " + st.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  st = db->Flush(rocksdb::FlushOptions(), cfs);
  if (!st.ok()) throw std::runtime_error("flushing: " + st.ToString());
  for (auto* cf : cfs) db->DestroyColumnFamilyHandle(cf);
  db->Close().PermitUncheckedError();
}

struct Pass {
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
  double per_second() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0; }
};

Pass replay(const std::string& path, HashCheck check) {
  RocksLogOptions lo;
  lo.path = path;
  lo.read_only = true;
  auto log = RocksEventLog::open(lo);
  if (!log) throw std::runtime_error("opening the log read-only: " + log.error().message);
  Pass p;
  const auto t0 = Clock::now();
  for (std::uint64_t from = 1;;) {
    auto batch = (*log)->read_forward(0, from, kBatch, check);
    if (!batch) throw std::runtime_error("read_forward: " + batch.error().message);
    if (batch->empty()) break;
    for (const auto& e : *batch) p.bytes += e.data.size();
    p.events += batch->size();
    from = batch->back().position + 1;
    if (batch->size() < kBatch) break;
  }
  p.seconds = seconds_since(t0);
  return p;
}

// Opens the database with RocksDB alone and walks the "log" column family.
Pass raw_iterate(const std::string& path) {
  rocksdb::DBOptions dbo;
  std::vector<rocksdb::ColumnFamilyDescriptor> descs{{rocksdb::kDefaultColumnFamilyName, {}}, {"log", {}}};
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::OpenForReadOnly(dbo, path, descs, &cfs, &raw);
  if (!st.ok()) throw std::runtime_error("raw RocksDB open: " + st.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  Pass p;
  const auto t0 = Clock::now();
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cfs[1]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      p.bytes += it->key().size() + it->value().size();
      ++p.events;
    }
    if (!it->status().ok()) throw std::runtime_error("raw iteration: " + it->status().ToString());
  }
  p.seconds = seconds_since(t0);
  for (auto* cf : cfs) db->DestroyColumnFamilyHandle(cf);
  db->Close().PermitUncheckedError();
  return p;
}

}  // namespace

void run_replay_bench(const Settings& s) {
  CpuProbe cpu;
  TempDir dir(s.tmp_root, "replay");
  const std::string path = dir.path() + "/log";
  note(fmt::format("replay: writing {} events (sync=false)", s.replay_events));
  const double fill_rate = fill(s, path, s.replay_events);

  flush_all(path);
  raw_iterate(path);  // warm-up: same page-cache state for both measured passes
  note("replay: read_forward + decode (hash trusted, as projections replay)");
  const Pass decoded = replay(path, HashCheck::trust);
  note("replay: read_forward + decode + BLAKE2b check of every entry (as log verify)");
  const Pass verified = replay(path, HashCheck::verify);
  note("audit_verify: the live log's chain and signatures (causeway audit verify)");
  Pass audited;
  {
    RocksLogOptions lo;
    lo.path = path;
    lo.read_only = true;
    auto log = RocksEventLog::open(lo);
    if (!log) throw std::runtime_error("opening the log read-only: " + log.error().message);
    const auto t0 = Clock::now();
    auto r = audit::verify_live(**log, audit::PublicKey{});
    audited.seconds = seconds_since(t0);
    audited.events = r.records;
    if (r.problem) throw std::runtime_error("audit verify: " + *r.problem);
  }
  note("replay baseline: raw RocksDB iteration of the log column family");
  const Pass raw = raw_iterate(path);
  if (decoded.events != s.replay_events || raw.events != s.replay_events)
    throw std::runtime_error(
        fmt::format("replay: read {} decoded / {} raw events, wrote {}", decoded.events, raw.events, s.replay_events));

  report("replay", decoded.per_second(), "events/s", raw.per_second(),
         {{"baseline_unit", "entries/s"},
          {"target_value", 1'000'000},
          {"events", decoded.events},
          {"verified_value", std::round(verified.per_second())},
          {"verified_ratio", std::round(verified.per_second() / raw.per_second() * 1000) / 1000},
          {"batch", kBatch},
          {"log_bytes", raw.bytes},
          {"replay_seconds", std::round(decoded.seconds * 1000) / 1000},
          {"raw_seconds", std::round(raw.seconds * 1000) / 1000},
          {"raw_mb_per_s", std::round(static_cast<double>(raw.bytes) / raw.seconds / 1e5) / 10},
          {"fill_events_per_s", std::round(fill_rate)},
          {"other_cpu_cores", std::round(cpu.other_cores() * 100) / 100}});
  report("audit_verify", audited.per_second(), "events/s", raw.per_second(),
         {{"baseline_unit", "entries/s (raw iteration, same run)"},
          {"target_value", 1'000'000},
          {"events", audited.events},
          {"checks", "BLAKE2b of every entry, every link, gapless positions, every checkpoint signature"}});
}

}  // namespace causeway::bench
