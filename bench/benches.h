// The figures of causeway_bench; each runs its own ceiling in the same call
// and prints one JSON line (common.h, report()).
#pragma once

#include "bench/common.h"

namespace causeway::bench {

void run_append_bench(const Settings& s);  // append_durable (append_bench.cpp)
void run_http_bench(const Settings& s);    // http_commands  (http_bench.cpp)
void run_replay_bench(const Settings& s);  // replay         (replay_bench.cpp)
void run_views_bench(const Settings& s);   // views_rebuild  (views_bench.cpp)
void run_subject_bench(const Settings& s); // subject_export (subject_bench.cpp)
void run_login_bench(const Settings& s);   // http_login     (login_bench.cpp)
void run_workflow_bench(const Settings& s);  // workflow_runs, workflow_transitions (workflow_bench.cpp)

}  // namespace causeway::bench
