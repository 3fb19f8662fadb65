// The figures of causeway_bench; each runs its own ceiling in the same call
// and prints one JSON line (common.h, report()).
#pragma once

#include "api/config.h"
#include "api/server.h"
#include "bench/common.h"
#include "engine/ids.h"

namespace causeway::bench {

// A Node on a loopback ephemeral port with fresh random secrets, quiet logs and
// the settings' I/O threads (0: the product's default); `data_dir` is the caller's.
inline ServerConfig bench_node_config(const Settings& s) {
  ServerConfig cfg;
  cfg.listen_address = "127.0.0.1";
  cfg.port = 0;
  cfg.io_threads = s.server_threads ? s.server_threads : api::default_io_threads();
  cfg.master_key_hex = random_token_hex();
  cfg.admin_token = random_token_hex();
  cfg.log_level = "warn";
  return cfg;
}

void run_append_bench(const Settings& s);  // append_durable (append_bench.cpp)
void run_http_bench(const Settings& s);    // http_commands  (http_bench.cpp)
void run_replay_bench(const Settings& s);  // replay         (replay_bench.cpp)
void run_views_bench(const Settings& s);   // views_rebuild  (views_bench.cpp)
void run_subject_bench(const Settings& s); // subject_export (subject_bench.cpp)
void run_login_bench(const Settings& s);   // http_login     (login_bench.cpp)
void run_workflow_bench(const Settings& s);  // workflow_runs, workflow_transitions (workflow_bench.cpp)
void run_startup_bench(const Settings& s);   // startup        (startup_bench.cpp)

}  // namespace causeway::bench
