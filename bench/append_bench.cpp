// append_durable: durable appends through RocksEventLog (sync = true, group
// commit) with many commits in flight, against raw synced RocksDB WriteBatches
// of the same entry bytes in batches of the log's average group size, each in
// a fresh folder, in the same run.
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cmath>
#include <stdexcept>
#include <thread>

#include "bench/benches.h"
#include "events/codec.h"
#include "events/rocks/rocks_log.h"

namespace causeway::bench {
namespace {

struct LogRun {
  double events_per_s = 0;
  std::uint64_t events = 0;
  std::uint64_t groups = 0;
  std::uint64_t errors = 0;
  double p50_us = 0, p99_us = 0;
};

// Keeps `inflight` commits queued on the log: each `done` posts the next
// commit of its slot to the appenders' own thread (as the engine does: `done`
// must not block the log's writer), where it is built and appended. Slot k
// appends to its own stream "bench-k", expecting the version its previous
// commit reached (optimistic concurrency exercised, one event per commit).
class AppendDriver {
 public:
  AppendDriver(RocksEventLog& log, const Settings& s, int inflight)
      : log_(log), s_(s), slots_(static_cast<std::size_t>(inflight)) {
    for (std::size_t i = 0; i < slots_.size(); ++i) slots_[i].stream = fmt::format("bench-{}", i);
  }

  LogRun run() {
    const auto t0 = Clock::now();
    window_start_ = t0 + to_duration(s_.warmup);
    window_end_ = window_start_ + to_duration(s_.seconds);
    outstanding_ = static_cast<int>(slots_.size());
    for (std::size_t i = 0; i < slots_.size(); ++i) issue(i);
    std::this_thread::sleep_until(window_end_);
    stop_ = true;
    while (outstanding_.load(std::memory_order_acquire) > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    appenders_.join();
    LogRun r;
    r.events = counted_;
    r.events_per_s = static_cast<double>(counted_) / s_.seconds;
    r.groups = groups_;
    r.errors = errors_;
    r.p50_us = lat_.percentile(50);
    r.p99_us = lat_.percentile(99);
    return r;
  }

 private:
  struct Slot {
    std::string stream;
    std::uint64_t version = 0;
    Clock::time_point sent;
  };

  void issue(std::size_t i) {
    Slot& slot = slots_[i];
    Commit c;
    c.events.push_back(make_event(slot.stream, seq_.fetch_add(1, std::memory_order_relaxed), s_.payload));
    c.expect.push_back({slot.stream, slot.version});
    slot.sent = Clock::now();
    log_.append(std::move(c), [this, i](Result<Committed> r) { on_done(i, std::move(r)); });
  }

  // Runs on the log's writer thread, one group after another.
  void on_done(std::size_t i, Result<Committed> r) {
    Slot& slot = slots_[i];
    const auto now = Clock::now();
    if (!r) {
      ++errors_;
      if (first_error_.empty()) first_error_ = r.error().message;
      // Re-read the stream's version so the slot can go on.
      if (auto v = log_.stream_version(slot.stream)) slot.version = *v;
    } else {
      slot.version = r->stream_versions.back();
      if (now >= window_start_ && now <= window_end_) {
        ++counted_;
        lat_.add(
            static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - slot.sent).count()));
        // `done` runs after the group's head is published and before the next
        // group is written, so the head identifies the group.
        const std::uint64_t head = log_.head().offsets.at(0);
        if (head != last_head_) {
          ++groups_;
          last_head_ = head;
        }
      }
    }
    if (stop_.load(std::memory_order_relaxed) || errors_ > 1000) {
      outstanding_.fetch_sub(1, std::memory_order_release);
      return;
    }
    boost::asio::post(appenders_, [this, i] { issue(i); });
  }

 public:
  const std::string& first_error() const { return first_error_; }

 private:
  RocksEventLog& log_;
  const Settings& s_;
  std::vector<Slot> slots_;
  std::atomic<std::uint64_t> seq_{1};
  std::atomic<bool> stop_{false};
  std::atomic<int> outstanding_{0};
  Clock::time_point window_start_, window_end_;
  // Written by the writer thread only; read after outstanding_ reaches 0.
  std::uint64_t counted_ = 0, groups_ = 0, errors_ = 0, last_head_ = 0;
  Latencies lat_;
  std::string first_error_;
  boost::asio::thread_pool appenders_{1};
};

// Encoded log entries like the ones the log writes, to replay as raw values.
std::vector<std::string> sample_entries(const Settings& s, std::size_t n) {
  std::vector<std::string> out;
  Hash prev{};
  for (std::size_t i = 0; i < n; ++i) {
    Event e;
    static_cast<NewEvent&>(e) = make_event(fmt::format("bench-{}", i % 256), i + 1, s.payload);
    e.position = i + 1;
    e.stream_version = i / 256 + 1;
    e.recorded_at_us = e.occurred_at_us;
    e.prev_hash = prev;
    out.push_back(encode_entry(e));
    prev = e.hash;
  }
  return out;
}

}  // namespace

namespace {

struct Pair {
  LogRun log;
  RawRun raw;
  double avg_group = 1;
  std::size_t batch = 1;
  double other_cpu = 0;
};

// The log with `inflight` commits queued, then raw batches of its average group size.
Pair measure(const Settings& s, int inflight, const std::vector<std::string>& values, std::size_t entry_bytes) {
  Pair p;
  CpuProbe cpu;
  {
    TempDir dir(s.tmp_root, "append");
    note(fmt::format("append_durable: RocksEventLog sync=true, {} commits in flight, {:.1f}+{:.1f} s", inflight,
                     s.warmup, s.seconds));
    RocksLogOptions lo;
    lo.path = dir.path() + "/log";
    lo.sync = true;
    auto log = RocksEventLog::open(lo);
    if (!log) throw std::runtime_error("opening the log: " + log.error().message);
    AppendDriver driver(**log, s, inflight);
    p.log = driver.run();
    (*log)->close();
    if (p.log.errors)
      note(fmt::format("append_durable: {} failed appends, first: {}", p.log.errors, driver.first_error()));
  }
  p.avg_group = p.log.groups ? static_cast<double>(p.log.events) / static_cast<double>(p.log.groups) : 1;
  p.batch = std::max<std::size_t>(1, static_cast<std::size_t>(p.avg_group + 0.5));
  {
    TempDir dir(s.tmp_root, "append-raw");
    note(fmt::format("append_durable baseline: raw RocksDB WriteBatch sync=true, {} x {} B per batch", p.batch,
                     entry_bytes));
    p.raw = raw_synced_batches(s, dir.path(), p.batch, values);
  }
  p.other_cpu = cpu.other_cores();
  return p;
}

double ratio(double a, double b) { return b > 0 ? std::round(a / b * 1000) / 1000 : 0; }

}  // namespace

void run_append_bench(const Settings& s) {
  const auto values = sample_entries(s, 1024);
  std::size_t entry_bytes = 0;
  for (const auto& v : values) entry_bytes += v.size();
  entry_bytes /= values.size();

  const Pair head = measure(s, s.append_inflight, values, entry_bytes);
  boost::json::object extra{{"baseline_unit", "keys/s"},     {"target_ratio", 0.6},
                            {"inflight", s.append_inflight}, {"avg_group", std::round(head.avg_group * 10) / 10},
                            {"baseline_batch", head.batch},  {"entry_bytes", entry_bytes},
                            {"payload_bytes", s.payload},    {"p50_us", head.log.p50_us},
                            {"p99_us", head.log.p99_us},     {"errors", head.log.errors}};
  double other_cpu = head.other_cpu;
  if (s.append_saturate > 0) {
    // The same pair with far more in flight: groups grow until the writer
    // thread's CPU, not the sync, is the limit.
    const Pair sat = measure(s, s.append_saturate, values, entry_bytes);
    extra["sat_inflight"] = s.append_saturate;
    extra["sat_value"] = std::round(sat.log.events_per_s);
    extra["sat_baseline"] = std::round(sat.raw.keys_per_s);
    extra["sat_ratio"] = ratio(sat.log.events_per_s, sat.raw.keys_per_s);
    extra["sat_avg_group"] = std::round(sat.avg_group * 10) / 10;
    extra["sat_p99_us"] = sat.log.p99_us;
    extra["errors"] = head.log.errors + sat.log.errors;
    other_cpu = std::max(other_cpu, sat.other_cpu);
  }
  extra["seconds"] = s.seconds;
  extra["other_cpu_cores"] = std::round(other_cpu * 100) / 100;
  report("append_durable", head.log.events_per_s, "events/s", head.raw.keys_per_s, std::move(extra));
}

}  // namespace causeway::bench
