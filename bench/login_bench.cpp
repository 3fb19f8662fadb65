// http_login: POST /v1/sessions on a real Node with the product's argon2id
// cost (email lookup, password hash opened from the log, argon2id verify on the
// CPU pool, session.start appended durably), closed loop over keep-alive
// connections; against raw argon2id verifications of the same hash with the
// same parameters on as many threads as the Node's CPU pool, in the same run.
// Login is bound by argon2id by design, so that is its ceiling.
#include <fmt/format.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <cmath>
#include <stdexcept>
#include <thread>

#include "api/node.h"
#include "bench/benches.h"
#include "bench/load_generator.h"
#include "engine/ids.h"
#include "engine/password.h"

namespace causeway::bench {

void run_login_bench(const Settings& s) {
  ServerConfig cfg = bench_node_config(s);
  cfg.login_attempts_per_ip_per_minute = 0;  // the bench is one address
  const std::string password = "correct horse battery staple";
  const unsigned pool = std::max(1u, std::thread::hardware_concurrency());  // the Node's CPU pool

  CpuProbe cpu;
  LoadResult logins;
  {
    TempDir dir(s.tmp_root, "login");
    cfg.data_dir = dir.path();
    auto node = Node::open(cfg);
    if (!node) throw std::runtime_error("starting the node: " + node.error().message);
    const unsigned short port = (*node)->port();
    auto [status, body] = http_once(
        "127.0.0.1", port,
        json_post("/v1/users", R"({"email":"login@bench.example","display_name":"Bench","password":")" + password +
                                   R"("})"));
    if (status != 201) throw std::runtime_error(fmt::format("POST /v1/users answered {}: {}", status, body));
    note(fmt::format("http_login: Node, POST /v1/sessions, {} connections, closed loop, argon2id ops={} mem={} MiB",
                     std::min<int>(s.connections, static_cast<int>(2 * pool)), cfg.password.opslimit,
                     cfg.password.memlimit >> 20));
    LoadSpec spec;
    spec.port = port;
    // Argon2id takes tens of ms and runs `pool` at a time: more connections only queue.
    spec.connections = std::min<int>(s.connections, static_cast<int>(2 * pool));
    spec.threads = s.client_threads;
    spec.warmup_s = s.warmup;
    spec.measure_s = s.seconds;
    spec.expect_status = 201;
    spec.make_request = [&password](int, std::uint64_t) {
      return json_post("/v1/sessions", R"({"email":"login@bench.example","password":")" + password + R"("})");
    };
    logins = run_load(spec);
    if (logins.ok == 0) throw std::runtime_error("http_login: no successful login (" + logins.first_error + ")");
    (*node)->stop();
  }

  note(fmt::format("http_login baseline: raw argon2id verifications on {} threads", pool));
  const auto hash = hash_password(password, cfg.password);
  if (!hash) throw std::runtime_error("hashing: " + hash.error().message);
  std::atomic<std::uint64_t> verified{0};
  std::atomic<bool> measuring{false}, stop{false}, failed{false};
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < pool; ++i)
    threads.emplace_back([&] {
      while (!stop) {
        if (!verify_password(*hash, password)) failed = true;
        if (measuring) ++verified;
      }
    });
  std::this_thread::sleep_for(to_duration(s.warmup));
  measuring = true;
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(to_duration(s.seconds));
  measuring = false;
  const double secs = seconds_since(t0);
  stop = true;
  for (auto& t : threads) t.join();
  if (failed) throw std::runtime_error("http_login baseline: a verification failed");
  const double raw = static_cast<double>(verified.load()) / secs;

  report("http_login", logins.per_second, "logins/s", raw,
         {{"baseline_unit", fmt::format("argon2id verifications/s on {} threads", pool)},
          {"p50_us", logins.p50_us},
          {"p99_us", logins.p99_us},
          {"errors", logins.errors},
          {"argon2id_opslimit", cfg.password.opslimit},
          {"argon2id_memlimit_mib", cfg.password.memlimit >> 20},
          {"connections", std::min<int>(s.connections, static_cast<int>(2 * pool))},
          {"seconds", s.seconds},
          {"other_cpu_cores", std::round(cpu.other_cores() * 100) / 100}});
}

}  // namespace causeway::bench
