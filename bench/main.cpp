// causeway_bench: prints one JSON line per figure on stdout, progress on stderr.
//   append_durable  RocksEventLog group commit vs raw synced RocksDB batches
//   http_commands   POST /v1/organizations on a Node vs an empty Beast handler
//   replay          RocksEventLog::read_forward vs raw iteration of the "log" CF
//                   (also prints audit_verify: `causeway audit verify` of that log)
//   views_rebuild   usage+audit views rebuilt from the log vs raw SQLite inserts
//   http_login      POST /v1/sessions on a Node vs raw argon2id verifications
//   subject_export  one subject's events by the subject index vs a full scan (10M events)
//   startup         Node::open on a log of 1M and 10M events, from the workflow start-up index
//                   vs the same start reading the whole log
//   (http_commands also prints projection_lag_p99: views lag under that load)
// Settings come from BENCH_* environment variables (bench/README.md).
#include <exception>
#include <iostream>

#include "api/log.h"
#include "bench/benches.h"

int main() {
  using namespace causeway::bench;
  try {
    causeway::init_json_logging("warn");
    const Settings s = Settings::from_env();
    if (s.wants("append_durable")) run_append_bench(s);
    if (s.wants("http_commands")) run_http_bench(s);
    if (s.wants("http_login")) run_login_bench(s);
    if (s.wants("workflow")) run_workflow_bench(s);
    if (s.wants("replay")) run_replay_bench(s);
    if (s.wants("views_rebuild")) run_views_bench(s);
    if (s.wants("subject_export")) run_subject_bench(s);
    if (s.wants("startup")) run_startup_bench(s);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "causeway_bench: " << e.what() << "\n";
    return 1;
  }
}
