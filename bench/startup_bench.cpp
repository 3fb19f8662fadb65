// startup: how long Node::open takes (until it serves) on a data folder whose
// log holds N events, for each N of BENCH_STARTUP_EVENTS (default 1M and 10M).
// The events are appended to the embedded log while the server is down; a
// first start then reads them (what the workflow start-up index does not yet
// cover) and saves the index.
//   value     the second start: it reads the start-up index and only the log
//             after it (engine/workflow/startup_index.h)
//   baseline  the same start without the index (the dispatcher's checkpoint as
//             an earlier release wrote it): one pass over the whole log
// One line per size; start-up that does not grow with the log shows as a flat
// value from 1M to 10M, the baseline growing with N. `log_open_ms`: opening the
// embedded log alone on the same folder, just before (RocksDB's part).
#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <semaphore>
#include <stdexcept>

#include "api/node.h"
#include "bench/benches.h"
#include "events/rocks/rocks_log.h"

namespace causeway::bench {
namespace {

// Appends `n` one-event commits to the log of the (stopped) server's folder.
void fill(const std::string& data_dir, std::uint64_t n, std::size_t payload) {
  RocksLogOptions lo;
  lo.path = data_dir + "/log";
  lo.sync = false;
  auto log = RocksEventLog::open(lo);
  if (!log) throw std::runtime_error("opening the log: " + log.error().message);
  std::counting_semaphore<> room(8192);
  std::atomic<std::uint64_t> failed{0};
  for (std::uint64_t i = 0; i < n; ++i) {
    room.acquire();
    Commit c;
    c.events.push_back(make_event(fmt::format("bench-{}", i % 1024), i + 1, payload));
    (*log)->append(std::move(c), [&](Result<Committed> r) {
      if (!r) failed.fetch_add(1, std::memory_order_relaxed);
      room.release();
    });
  }
  (*log)->close();
  if (failed) throw std::runtime_error(fmt::format("filling the log: {} appends failed", failed.load()));
}

struct Start {
  double ms = 0;
  workflow::RecoveryReport recovery;
};

// Opens a server on the folder, times Node::open, and stops it.
Start start(const ServerConfig& cfg) {
  const auto t0 = Clock::now();
  auto node = Node::open(cfg);
  Start out;
  out.ms = seconds_since(t0) * 1000;
  if (!node) throw std::runtime_error("starting: " + node.error().message);
  out.recovery = (*node)->workflow_recovery();
  (*node)->stop();
  return out;
}

// Opening and closing the embedded log alone (RocksDB's own start: its files, the head).
double open_log_ms(const std::string& data_dir) {
  RocksLogOptions lo;
  lo.path = data_dir + "/log";
  const auto t0 = Clock::now();
  auto log = RocksEventLog::open(lo);
  if (!log) throw std::runtime_error("opening the log: " + log.error().message);
  const double ms = seconds_since(t0) * 1000;
  (*log)->close();
  return ms;
}

std::vector<std::uint64_t> sizes_from_env() {
  const char* v = std::getenv("BENCH_STARTUP_EVENTS");
  std::vector<std::uint64_t> out;
  std::string text = v && *v ? v : "1000000,10000000";
  for (std::size_t at = 0; at <= text.size();) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    out.push_back(std::stoull(text.substr(at, comma - at)));
    at = comma + 1;
  }
  return out;
}

}  // namespace

void run_startup_bench(const Settings& s) {
  for (const std::uint64_t n : sizes_from_env()) {
    TempDir dir(s.tmp_root, "startup");
    ServerConfig cfg = bench_node_config(s);
    cfg.data_dir = dir.path();
    start(cfg);  // a fresh folder: keys, views, the dispatcher's checkpoint with its index
    note(fmt::format("startup: appending {} events to the stopped server's log", n));
    fill(dir.path(), n, 200);
    const Start first = start(cfg);  // reads the events appended while it was down, saves the index
    const double log_open = open_log_ms(dir.path());
    const Start indexed = start(cfg);
    if (!indexed.recovery.from_index) throw std::runtime_error("startup: the second start did not read the index");
    // The checkpoint without the index: one pass over the whole log.
    {
      std::ofstream out(dir.path() + "/workflow-dispatch.json", std::ios::trunc);
      out << R"({"next":[1]})";
    }
    const Start whole = start(cfg);
    if (whole.recovery.from_index) throw std::runtime_error("startup: the start without the index used one");
    report("startup", std::round(indexed.ms * 10) / 10, "ms", std::round(whole.ms * 10) / 10,
           {{"baseline_unit", "ms (the same start reading the whole log)"},
            {"log_events", n},
            {"scanned_with_index", indexed.recovery.scanned},
            {"scanned_without", whole.recovery.scanned},
            {"log_open_ms", std::round(log_open * 10) / 10},
            {"first_start_ms", std::round(first.ms * 10) / 10},
            {"first_start_scanned", first.recovery.scanned}});
  }
}

}  // namespace causeway::bench
