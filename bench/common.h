// Shared helpers of causeway_bench: run settings from the environment, fresh
// temp folders, latency percentiles, the sample event, and the one-JSON-line
// report format every figure is printed in.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "events/envelope.h"

namespace causeway::bench {

using Clock = std::chrono::steady_clock;

// Settings, from environment variables (bench/README.md lists them).
struct Settings {
  double seconds = 3.0;                     // BENCH_SECONDS: measured part of every timed phase
  double warmup = 0.5;                      // BENCH_WARMUP: unmeasured lead-in of every timed phase
  std::size_t payload = 300;                // BENCH_PAYLOAD: bytes of JSON payload per event
  int append_inflight = 64;                 // BENCH_APPEND_INFLIGHT: commits kept in flight (headline)
  int append_saturate = 1024;               // BENCH_APPEND_SATURATE: in flight for the saturation run (0 = skip)
  double low_load = 0.5;                    // BENCH_LOW_LOAD: fraction of the closed-loop rate for the tail run
  int connections = 64;                     // BENCH_CONNECTIONS: HTTP keep-alive connections
  unsigned server_threads = 0;              // BENCH_SERVER_THREADS: I/O threads of both servers (0 = nproc)
  unsigned client_threads = 1;              // BENCH_CLIENT_THREADS: load generator threads
  std::uint64_t replay_events = 1'000'000;  // BENCH_REPLAY_EVENTS
  std::uint64_t view_events = 500'000;      // BENCH_VIEW_EVENTS: log size for views_rebuild
  std::uint64_t subject_log_events = 10'000'000;  // BENCH_SUBJECT_LOG_EVENTS: log size for subject_export
  std::string only;                         // BENCH_ONLY: comma list of figures to run (empty = all)
  std::string tmp_root;                     // BENCH_TMPDIR, else TMPDIR, else /tmp

  static Settings from_env();
  bool wants(const std::string& figure) const;
};

// A fresh folder, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir(const std::string& root, const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

double seconds_since(Clock::time_point t0);
inline Clock::duration to_duration(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Latency samples in microseconds; percentile() sorts on first use.
class Latencies {
 public:
  void add(std::uint32_t us) { v_.push_back(us); }
  void merge(const Latencies& o) {
    v_.insert(v_.end(), o.v_.begin(), o.v_.end());
    sorted_ = false;
  }
  std::size_t count() const { return v_.size(); }
  double percentile(double p);  // p in [0, 100]; 0 when empty
  void clear() {
    v_.clear();
    sorted_ = false;
  }
  void reserve(std::size_t n) { v_.reserve(n); }

 private:
  std::vector<std::uint32_t> v_;
  bool sorted_ = false;
};

// CPU that other processes (and the hypervisor: steal) used while a figure
// ran, in cores, from /proc/stat minus this process's own time. On a 2-core
// machine a neighbour's compile halves every figure; each line reports it.
// CPU time (user + system) of the whole process so far, in seconds.
double process_cpu_seconds();

class CpuProbe {
 public:
  CpuProbe();
  double other_cores() const;  // average since construction

 private:
  Clock::time_point t0_;
  std::uint64_t busy0_ = 0;
  double self0_ = 0;
};

// A JSON payload of exactly `bytes` bytes (at least ~40).
std::string make_payload(std::size_t bytes, std::uint64_t seq);

// A NewEvent as the engine would emit it, with a payload of `payload_bytes`.
NewEvent make_event(const std::string& stream, std::uint64_t seq, std::size_t payload_bytes);

// Prints {"bench","value","unit","baseline","ratio", ...extra} as one line on
// stdout and flushes. `ratio` = value / baseline (0 when baseline is 0).
void report(const std::string& bench, double value, const std::string& unit, double baseline,
            boost::json::object extra = {});

// Progress on stderr, so stdout stays one JSON line per figure.
void note(const std::string& msg);

struct RawRun {
  double keys_per_s = 0;
  std::uint64_t keys = 0;
};
// The ceiling of durable writes: one thread writing `values` (cycled) under
// sequential BE64 keys into a fresh RocksDB at `path`, in synced WriteBatches
// of `batch` entries, for s.warmup + s.seconds; keys/s of the measured part.
RawRun raw_synced_batches(const Settings& s, const std::string& path, std::size_t batch,
                          const std::vector<std::string>& values);


}  // namespace causeway::bench
