// Shared helpers of causeway_bench (see common.h).
#include "bench/common.h"

#include <sys/resource.h>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace causeway::bench {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

double env_double(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  double d = std::strtod(v, &end);
  if (end == v || *end != '\0' || !(d >= 0)) throw std::invalid_argument(fmt::format("{}={} is not a number", name, v));
  return d;
}

}  // namespace

Settings Settings::from_env() {
  Settings s;
  s.seconds = env_double("BENCH_SECONDS", s.seconds);
  if (s.seconds <= 0) throw std::invalid_argument("BENCH_SECONDS must be positive");
  s.warmup = env_double("BENCH_WARMUP", s.warmup);
  s.payload = static_cast<std::size_t>(env_double("BENCH_PAYLOAD", static_cast<double>(s.payload)));
  s.append_inflight = std::max(1, static_cast<int>(env_double("BENCH_APPEND_INFLIGHT", s.append_inflight)));
  s.append_saturate = static_cast<int>(env_double("BENCH_APPEND_SATURATE", s.append_saturate));
  s.low_load = env_double("BENCH_LOW_LOAD", s.low_load);
  if (s.low_load <= 0 || s.low_load > 1) throw std::invalid_argument("BENCH_LOW_LOAD must be in (0, 1]");
  s.connections = std::max(1, static_cast<int>(env_double("BENCH_CONNECTIONS", s.connections)));
  s.server_threads = static_cast<unsigned>(env_double("BENCH_SERVER_THREADS", s.server_threads));
  s.client_threads = std::max(1u, static_cast<unsigned>(env_double("BENCH_CLIENT_THREADS", s.client_threads)));
  s.replay_events = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(env_double("BENCH_REPLAY_EVENTS", 1e6)));
  s.view_events = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(env_double("BENCH_VIEW_EVENTS", 5e5)));
  s.subject_log_events =
      std::max<std::uint64_t>(100, static_cast<std::uint64_t>(env_double("BENCH_SUBJECT_LOG_EVENTS", 1e7)));
  s.only = env_or("BENCH_ONLY", "");
  s.tmp_root = env_or("BENCH_TMPDIR", env_or("TMPDIR", "/tmp"));
  return s;
}

bool Settings::wants(const std::string& figure) const {
  if (only.empty()) return true;
  std::stringstream ss(only);
  for (std::string item; std::getline(ss, item, ',');)
    if (item == figure) return true;
  return false;
}

TempDir::TempDir(const std::string& root, const std::string& tag) {
  std::string templ = root + "/causeway-bench-" + tag + "-XXXXXX";
  if (!::mkdtemp(templ.data())) throw std::runtime_error(fmt::format("cannot create a folder under {}", root));
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

std::uint64_t machine_busy_ticks() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return user + nice + system + irq + softirq + steal;
}

}  // namespace

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

CpuProbe::CpuProbe() : t0_(Clock::now()), busy0_(machine_busy_ticks()), self0_(process_cpu_seconds()) {}

double CpuProbe::other_cores() const {
  const double secs = seconds_since(t0_);
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  if (secs <= 0 || hz <= 0) return 0;
  const double busy = static_cast<double>(machine_busy_ticks() - busy0_);
  const double self = process_cpu_seconds() - self0_;
  return std::max(0.0, (busy / hz - self) / secs);
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double Latencies::percentile(double p) {
  if (v_.empty()) return 0;
  if (!sorted_) {
    std::sort(v_.begin(), v_.end());
    sorted_ = true;
  }
  // Nearest rank.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v_.size())));
  return v_[std::min(v_.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string make_payload(std::size_t bytes, std::uint64_t seq) {
  std::string head = fmt::format(R"({{"seq":{},"kind":"bench","note":")", seq);
  std::string out = head;
  const std::size_t tail = 2;  // "}
  std::size_t fill = bytes > head.size() + tail ? bytes - head.size() - tail : 0;
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (std::size_t i = 0; i < fill; ++i) out.push_back(alphabet[(seq + i * 7) % 36]);
  out += "\"}";
  return out;
}

NewEvent make_event(const std::string& stream, std::uint64_t seq, std::size_t payload_bytes) {
  static const std::int64_t base_us = 1'795'000'000'000'000;  // fixed: no clock read per event
  NewEvent e;
  e.stream = stream;
  e.id = fmt::format("evt-{:032x}", seq);
  e.type = "bench.recorded";
  e.schema_version = 1;
  e.occurred_at_us = base_us + static_cast<std::int64_t>(seq);
  e.tenant = "org-0123456789abcdef0123456789abcdef";
  e.actor = Actor{"user:0123456789abcdef0123456789abcdef", {}};
  e.causation_id = fmt::format("req-{:016x}", seq);
  e.correlation_id = e.causation_id;
  e.data = make_payload(payload_bytes, seq);
  return e;
}

namespace {

// Numbers as people write them: integers without a fraction, other values
// with up to 4 significant decimals (Boost.JSON would print 6.4063E4).
std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  if (std::fabs(v) < 1e15 && v == std::floor(v)) return fmt::format("{}", static_cast<std::int64_t>(v));
  if (std::fabs(v) >= 100) return fmt::format("{:.1f}", v);
  return fmt::format("{:.4g}", v);
}

std::string render(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      return number(v.get_double());
    case boost::json::kind::int64:
      return fmt::format("{}", v.get_int64());
    case boost::json::kind::uint64:
      return fmt::format("{}", v.get_uint64());
    default:
      return boost::json::serialize(v);
  }
}

}  // namespace

void report(const std::string& bench, double value, const std::string& unit, double baseline,
            boost::json::object extra) {
  boost::json::object o;
  o["bench"] = bench;
  o["value"] = std::round(value * 10) / 10;
  o["unit"] = unit;
  o["baseline"] = std::round(baseline * 10) / 10;
  o["ratio"] = baseline > 0 ? std::round(value / baseline * 1000) / 1000 : 0.0;
  for (auto& kv : extra) o[kv.key()] = kv.value();
  std::string line = "{";
  for (auto& kv : o) {
    if (line.size() > 1) line += ',';
    line += boost::json::serialize(boost::json::value(kv.key()));
    line += ':';
    line += render(kv.value());
  }
  line += "}\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void note(const std::string& msg) { std::cerr << "bench: " << msg << std::endl; }

// One thread, sequential BE64 keys, WriteBatch of `batch` entries, sync = true.
RawRun raw_synced_batches(const Settings& s, const std::string& path, std::size_t batch,
                          const std::vector<std::string>& values) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.max_background_jobs = 2;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(o, path, &raw);
  if (!st.ok()) throw std::runtime_error("raw RocksDB open: " + st.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const auto t0 = Clock::now();
  const auto start = t0 + to_duration(s.warmup);
  const auto end = start + to_duration(s.seconds);
  std::uint64_t seq = 0, counted = 0;
  rocksdb::WriteBatch wb;
  for (;;) {
    wb.Clear();
    for (std::size_t i = 0; i < batch; ++i) {
      char key[8];
      std::uint64_t k = ++seq;
      for (int b = 7; b >= 0; --b, k >>= 8) key[b] = static_cast<char>(k & 0xff);
      wb.Put(rocksdb::Slice(key, 8), values[seq % values.size()]);
    }
    st = db->Write(wo, &wb);
    if (!st.ok()) throw std::runtime_error("raw RocksDB write: " + st.ToString());
    const auto now = Clock::now();
    if (now > end) break;
    if (now >= start) counted += batch;
  }
  db->Close().PermitUncheckedError();
  return RawRun{static_cast<double>(counted) / s.seconds, counted};
}


}  // namespace causeway::bench
