// workflow_runs and workflow_transitions: durable runs of a 5-node workflow
// (condition, two HTTP actions against a local receiver, set, end) on a real
// Node, `inflight` runs at a time in a closed loop (a run is started when one
// ends). Every step is an event appended durably; every HTTP attempt is sent
// to a real loopback receiver.
//
// Ceilings, in the same run:
//   workflow_runs         the receiver's own rate for the same requests
//                         (http_call, same concurrency), divided by the two
//                         requests a run makes;
//   workflow_transitions  raw synced RocksDB WriteBatches of the run events'
//                         stored bytes, in batches of the log's average group
//                         size during the measured window.
#include <fmt/format.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <limits>
#include <unordered_map>

#include "api/node.h"
#include "bench/benches.h"
#include "bench/load_generator.h"
#include "engine/ids.h"
#include "engine/workflow/http_call.h"
#include "events/codec.h"
#include "support/webhook_receiver.h"
#include "support/workflows.h"

namespace causeway::bench {
namespace {
namespace asio = boost::asio;
namespace json = boost::json;

std::string field(const std::string& body, const char* key) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object() || !v.as_object().contains(key)) throw std::runtime_error("no " + std::string(key) + " in " + body);
  return std::string(v.as_object().at(key).as_string());
}

// Closed loop of runs: each ended run starts the next, until the window ends.
class RunDriver {
 public:
  RunDriver(Node& node, std::string org, std::string workflow, const Settings& s, int inflight)
      : node_(node), org_(std::move(org)), workflow_(std::move(workflow)), s_(s), inflight_(inflight) {}

  struct Result {
    std::uint64_t runs = 0, errors = 0, launched = 0;
    double per_second = 0, p50_ms = 0, p99_ms = 0;
    std::int64_t window_start_us = 0, window_end_us = 0;
    double cpu_seconds = 0;  // the whole process's, receiver included, in the window
  };

  Result run() {
    node_.workflows().on_ended([this](const std::string& id) { ended(id); });
    const auto t0 = Clock::now();
    start_ = t0 + to_duration(s_.warmup);
    end_ = start_ + to_duration(s_.seconds);
    std::thread io([this] {
      auto guard = asio::make_work_guard(ioc_);
      ioc_.run();
    });
    for (int i = 0; i < inflight_; ++i) launch();
    std::this_thread::sleep_until(start_);
    const double cpu0 = process_cpu_seconds();
    std::this_thread::sleep_until(end_);
    const double cpu1 = process_cpu_seconds();
    stop_ = true;
    {
      std::unique_lock lock(mu_);
      drained_.wait_for(lock, std::chrono::seconds(60), [this] { return live_.empty(); });
    }
    ioc_.stop();
    io.join();
    Result r;
    r.runs = counted_;
    r.errors = errors_;
    r.launched = launched_;
    r.per_second = static_cast<double>(counted_) / s_.seconds;
    r.p50_ms = lat_.percentile(50) / 1000.0;
    r.p99_ms = lat_.percentile(99) / 1000.0;
    r.cpu_seconds = cpu1 - cpu0;
    return r;
  }

 private:
  void launch() {
    const std::string run_id = new_id("run", node_.pipeline().clock().now_us());
    {
      std::lock_guard lock(mu_);
      live_[run_id] = Clock::now();
      ++launched_;
    }
    asio::co_spawn(ioc_, start(run_id), asio::detached);
  }

  asio::awaitable<void> start(std::string run_id) {
    json::value body = json::object{{"workflow_id", workflow_},
                                    {"input", json::object{{"plan", "pro"}, {"seats", 9}}}};
    CommandContext ctx;
    ctx.actor = Actor{"bench", {}};
    ctx.tenant = org_;
    ctx.target = run_id;
    auto r = co_await node_.pipeline().execute("run.start", std::move(body), std::move(ctx));
    if (!r) {
      errors_++;
      ended(run_id);
      co_return;
    }
    node_.workflows().kick(run_id);
  }

  void ended(const std::string& run_id) {
    const auto now = Clock::now();
    bool again = false;
    {
      std::lock_guard lock(mu_);
      auto it = live_.find(run_id);
      if (it == live_.end()) return;
      if (now >= start_ && now <= end_) {
        ++counted_;
        lat_.add(static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - it->second).count()));
      }
      live_.erase(it);
      again = !stop_;
      if (live_.empty()) drained_.notify_all();
    }
    if (again) launch();
  }

  Node& node_;
  std::string org_, workflow_;
  const Settings& s_;
  int inflight_;
  asio::io_context ioc_;
  Clock::time_point start_, end_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable drained_;
  std::unordered_map<std::string, Clock::time_point> live_;
  std::uint64_t counted_ = 0, launched_ = 0;
  std::atomic<std::uint64_t> errors_{0};
  Latencies lat_;
};

// The receiver's own rate: `inflight` callers of http_call in a closed loop.
double receiver_ceiling(const Settings& s, const std::string& url, int inflight) {
  asio::io_context ioc;
  std::atomic<std::uint64_t> counted{0};
  std::atomic<bool> stop{false};
  // The receiver is on loopback, as the server's workflows are allowed to reach here.
  const auto egress = std::make_shared<const workflow::EgressPolicy>(CidrList::parse("127.0.0.0/8").value());
  const auto start = Clock::now() + to_duration(s.warmup);
  const auto end = start + to_duration(s.seconds);
  auto caller = [&]() -> asio::awaitable<void> {
    while (!stop) {
      workflow::HttpRequest req;
      req.method = "POST";
      req.url = url;
      req.body = R"({"plan": "pro"})";
      req.headers = {{"Content-Type", "application/json"}, {"Idempotency-Key", "k"}};
      req.egress = egress;
      auto r = co_await workflow::http_call(std::move(req));
      const auto now = Clock::now();
      if (std::holds_alternative<workflow::HttpResponse>(r) && now >= start && now <= end) ++counted;
      if (now > end) stop = true;
    }
  };
  for (int i = 0; i < inflight; ++i) asio::co_spawn(ioc, caller(), asio::detached);
  std::thread t([&] { ioc.run(); });
  t.join();
  return static_cast<double>(counted.load()) / s.seconds;
}

}  // namespace

void run_workflow_bench(const Settings& s) {
  testing::WebhookReceiver receiver;
  ServerConfig cfg = bench_node_config(s);
  cfg.workflow_http_allow = "127.0.0.0/8";  // the receiver is on loopback
  const int inflight = s.connections;
  CpuProbe cpu;
  RunDriver::Result runs;
  std::uint64_t run_events = 0, transitions = 0, groups = 0;
  std::vector<std::string> values;
  {
    TempDir dir(s.tmp_root, "workflow");
    cfg.data_dir = dir.path();
    auto node = Node::open(cfg);
    if (!node) throw std::runtime_error("starting the node: " + node.error().message);
    const unsigned short port = (*node)->port();
    auto admin = [&](HttpRequest req) {
      req.set(boost::beast::http::field::authorization, "Bearer " + cfg.admin_token);
      return req;
    };
    auto [s1, user] = http_once("127.0.0.1", port, json_post("/v1/users", R"({"email":"wf@bench.example",
        "display_name":"Bench","password":"correct horse battery staple"})"));
    if (s1 != 201) throw std::runtime_error("signup: " + user);
    auto [s2, org] = http_once("127.0.0.1", port, admin(json_post("/v1/organizations", R"({"slug":"bench","name":"Bench","owner_user_id":")" +
                                                                                            field(user, "user_id") + R"("})")));
    if (s2 != 201) throw std::runtime_error("organization: " + org);
    const std::string org_id = field(org, "org_id");
    // Unlimited runs and API calls: the free plan would stop the benchmark at 1,000 runs.
    HttpRequest up = admin(json_post("/v1/organizations/" + org_id + "/subscription/plan", R"({"plan":"enterprise"})"));
    up.method(boost::beast::http::verb::put);
    auto [s2b, upgraded] = http_once("127.0.0.1", port, std::move(up));
    if (s2b != 200) throw std::runtime_error("plan: " + upgraded);
    auto [s3, key] = http_once("127.0.0.1", port, admin(json_post("/v1/admin/organizations/" + org_id + "/api-keys",
                                                                  R"({"name":"bench","role":"member"})")));
    if (s3 != 201) throw std::runtime_error("api key: " + key);
    auto bearer = [&](HttpRequest req) {
      req.set(boost::beast::http::field::authorization, "Bearer " + field(key, "token"));
      return req;
    };
    auto [s4, wf] = http_once("127.0.0.1", port, bearer(json_post("/v1/workflows", R"({"name":"bench","definition":)" +
                                                                                       testing::five_node_workflow(receiver.url()) + "}")));
    if (s4 != 201) throw std::runtime_error("workflow: " + wf);
    const std::string workflow_id = field(wf, "workflow_id");
    auto [s5, pub] = http_once("127.0.0.1", port, bearer(json_post("/v1/workflows/" + workflow_id + "/versions", "{}")));
    if (s5 != 200) throw std::runtime_error("publish: " + pub);

    note(fmt::format("workflow_runs: Node, 5-node workflow, 2 HTTP calls per run to a loopback receiver, {} runs in "
                     "flight, closed loop, {:.1f}+{:.1f} s",
                     inflight, s.warmup, s.seconds));
    const std::int64_t t0_us = (*node)->pipeline().clock().now_us();
    RunDriver driver(**node, org_id, workflow_id, s, inflight);
    runs = driver.run();
    // The run events as stored: their count, group commits, and bytes for the ceiling.
    const std::int64_t w0 = t0_us + static_cast<std::int64_t>(s.warmup * 1e6);
    const std::int64_t w1 = w0 + static_cast<std::int64_t>(s.seconds * 1e6);
    std::set<std::int64_t> group_times;
    auto st = (*node)->log().scan_raw(0, 1, std::numeric_limits<std::uint64_t>::max(),
                                      [&](std::uint64_t, std::string_view bytes) {
                                        auto e = decode_entry(bytes, HashCheck::trust);
                                        if (!e || e->type.rfind("run.", 0) != 0) return true;
                                        ++run_events;
                                        if (values.size() < 4096) values.emplace_back(bytes);
                                        if (e->recorded_at_us >= w0 && e->recorded_at_us <= w1) {
                                          ++transitions;
                                          group_times.insert(e->recorded_at_us);
                                        }
                                        return true;
                                      });
    if (!st) throw std::runtime_error("scanning the log: " + st.error().message);
    groups = group_times.size();
    (*node)->stop();
  }
  const double per_group = groups ? static_cast<double>(transitions) / static_cast<double>(groups) : 1;
  const std::size_t batch = std::max<std::size_t>(1, static_cast<std::size_t>(per_group + 0.5));
  RawRun raw;
  {
    TempDir dir(s.tmp_root, "workflow-raw");
    note(fmt::format("workflow_transitions baseline: raw RocksDB WriteBatch sync=true, {} run entries per batch",
                     batch));
    raw = raw_synced_batches(s, dir.path(), batch, values);
  }
  note(fmt::format("workflow_runs baseline: http_call to the same receiver, {} callers", inflight));
  const double calls = receiver_ceiling(s, receiver.url(), inflight);
  const double other = std::round(cpu.other_cores() * 100) / 100;
  const double events_per_run =
      runs.launched ? static_cast<double>(run_events) / static_cast<double>(runs.launched) : 0;
  report("workflow_runs", runs.per_second, "runs/s", calls / 2,
         {{"baseline_unit", "receiver requests/s / 2 (two HTTP calls per run)"},
          {"p50_ms", runs.p50_ms},
          {"p99_ms", runs.p99_ms},
          {"errors", runs.errors},
          {"cpu_ms_per_run", runs.runs ? std::round(runs.cpu_seconds * 1e6 / static_cast<double>(runs.runs)) / 1000 : 0},
          {"cpu_cores", std::round(runs.cpu_seconds / s.seconds * 100) / 100},
          {"target", 5000},
          {"inflight", inflight},
          {"seconds", s.seconds},
          {"other_cpu_cores", other}});
  report("workflow_transitions", static_cast<double>(transitions) / s.seconds, "events/s", raw.keys_per_s,
         {{"baseline_unit", "keys/s"},
          {"baseline_batch", batch},
          {"avg_group", std::round(per_group * 10) / 10},
          {"events_per_run", std::round(events_per_run * 10) / 10},
          {"target", 25000},
          {"seconds", s.seconds},
          {"other_cpu_cores", other}});
}

}  // namespace causeway::bench
