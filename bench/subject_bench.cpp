// subject_export: the events of one data subject (GDPR Art. 15) from a log of
// BENCH_SUBJECT_LOG_EVENTS events (default 10M), of which ~50 are about the
// subject, through audit::subject_events — the subject index and point reads,
// as GET /v1/admin/subjects/{user}/export does — against a full scan of the
// same log that picks the subject's events out (what an export without the
// index would cost), in the same run. The value is the median of 9 exports.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <semaphore>
#include <stdexcept>

#include "bench/benches.h"
#include "engine/audit/export.h"
#include "events/rocks/rocks_log.h"

namespace causeway::bench {
namespace {

constexpr std::uint64_t kSubjectEvents = 50;
const std::string kSubject = "user-0190c3e2aaaabbbbccccddddeeee0001";

// Appends `n` one-event commits; every (n / 50)-th is about kSubject, the
// others about one of 100,000 other subjects, so the subject index is full.
double fill(const std::string& path, std::uint64_t n, std::size_t payload) {
  RocksLogOptions lo;
  lo.path = path;
  lo.sync = false;
  auto log = RocksEventLog::open(lo);
  if (!log) throw std::runtime_error("opening the log: " + log.error().message);
  std::counting_semaphore<> room(8192);
  std::atomic<std::uint64_t> failed{0};
  const std::uint64_t every = std::max<std::uint64_t>(1, n / kSubjectEvents);
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    room.acquire();
    Commit c;
    NewEvent e = make_event(fmt::format("bench-{}", i % 1024), i + 1, payload);
    e.subjects = {i % every == every / 2 ? kSubject : fmt::format("user-{:032x}", i % 100'000)};
    c.events.push_back(std::move(e));
    (*log)->append(std::move(c), [&](Result<Committed> r) {
      if (!r) failed.fetch_add(1, std::memory_order_relaxed);
      room.release();
    });
  }
  (*log)->close();
  if (failed) throw std::runtime_error(fmt::format("filling the log: {} appends failed", failed.load()));
  return static_cast<double>(n) / seconds_since(t0);
}

}  // namespace

void run_subject_bench(const Settings& s) {
  TempDir dir(s.tmp_root, "subject");
  const std::string path = dir.path() + "/log";
  const std::size_t payload = 120;
  note(fmt::format("subject_export: writing {} events (sync=false, {}-byte payloads)", s.subject_log_events, payload));
  const double fill_rate = fill(path, s.subject_log_events, payload);

  RocksLogOptions lo;
  lo.path = path;
  lo.read_only = true;
  auto log = RocksEventLog::open(lo);
  if (!log) throw std::runtime_error("opening the log read-only: " + log.error().message);
  auto schemas = SchemaRegistry::from_embedded();
  if (!schemas) throw std::runtime_error("schemas: " + schemas.error().message);
  KeyVault vault((*log)->key_store(), SecretKey{});

  note("subject_export: full scan of the log for the subject's events (baseline)");
  std::uint64_t scanned = 0, found_by_scan = 0;
  const auto s0 = Clock::now();
  for (std::uint64_t from = 1;;) {
    auto batch = (*log)->read_forward(0, from, 4096, HashCheck::trust);
    if (!batch) throw std::runtime_error("read_forward: " + batch.error().message);
    for (const auto& e : *batch)
      if (std::find(e.subjects.begin(), e.subjects.end(), kSubject) != e.subjects.end()) ++found_by_scan;
    scanned += batch->size();
    if (batch->size() < 4096) break;
    from = batch->back().position + 1;
  }
  const double scan_ms = seconds_since(s0) * 1000;

  note("subject_export: 9 exports through the subject index");
  std::vector<double> ms;
  std::size_t exported = 0;
  for (int i = 0; i < 9; ++i) {
    const auto t0 = Clock::now();
    auto events = audit::subject_events(**log, vault, **schemas, kSubject);
    ms.push_back(seconds_since(t0) * 1000);
    if (!events) throw std::runtime_error("subject_events: " + events.error().message);
    exported = events->size();
  }
  if (exported != found_by_scan || exported < kSubjectEvents)
    throw std::runtime_error(fmt::format("subject_export: {} events by the index, {} by the scan", exported,
                                         found_by_scan));
  std::sort(ms.begin(), ms.end());
  report("subject_export", std::round(ms[4] * 1000) / 1000, "ms", std::round(scan_ms * 10) / 10,
         {{"baseline_unit", "ms (full scan of the same log)"},
          {"target_value", 100},
          {"target", "value <= 100 ms"},
          {"log_events", scanned},
          {"subject_events", exported},
          {"max_ms", std::round(ms.back() * 1000) / 1000},
          {"speedup", std::round(scan_ms / ms[4])},
          {"fill_events_per_s", std::round(fill_rate)}});
}

}  // namespace causeway::bench
