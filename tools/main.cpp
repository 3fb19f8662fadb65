// causeway: the server and the operator's command line.
//
//   causeway serve                 run the HTTP API on the embedded default
//   causeway log tail              events as JSON lines (filters: stream, type, position; --last N)
//   causeway log stats             counts and sizes of the log
//   causeway log verify            recompute the hash chain and aggregate state
//   causeway projections status    state, checkpoint and lag of every view
//   causeway projections rebuild   rebuild NAME... or --all (offline; the server rebuilds online)
//   causeway query SQL             read-only SQL over the views (JSON lines or CSV)
//   causeway backup --to DIR       backup of a stopped server's data folder (online: POST /v1/admin/backups)
//   causeway restore --from DIR    restore a backup into a new data folder
//   causeway audit export          a signed, verifiable export of the log (recorded as a read)
//   causeway audit verify [FILE]   check an export offline with the public key, or the live log
//   causeway audit public-key      the key that verifies this data folder's checkpoints
//   causeway gdpr|dsr|retention    holds, erasure, subject exports, requests, retention
//                                  (through a running server's admin API: admin_cli.h)
//
// Configuration precedence: command-line flags, then CAUSEWAY_* environment
// variables, then the file given by --config (TOML/INI, keys = flag names under
// a [serve] or [log] section; an unknown key is an error). CLI11 alone would
// rank the file above the environment, so environment values are passed to it
// as flags (see main()). Exit codes: tools/README.md, "Exit codes".
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <sodium.h>
#include <tuple>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <set>

#include "api/log.h"
#include "api/node.h"
#include "engine/verify.h"
#include "events/codec.h"
#include "tools/backup_cli.h"
#include "tools/progress.h"
#include "tools/admin_cli.h"
#include "tools/audit_cli.h"
#include "tools/cli_common.h"
#include "tools/views_cli.h"

using namespace causeway;

namespace {

int serve(const ServerConfig& cfg) {
  init_json_logging(cfg.log_level);
  // Block the signals in every thread; this one waits for them synchronously.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto node = Node::open(cfg);
  if (!node) {
    log_fields(spdlog::level::err, "cannot start", {{"error", node.error().message}});
    return cli::kExitError;
  }
  int sig = 0;
  sigwait(&set, &sig);
  log_fields(spdlog::level::info, "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  (*node)->stop();
  return 0;
}

using cli::fail;
Result<std::unique_ptr<RocksEventLog>> open_read_only(const std::string& data_dir) { return cli::open_log(data_dir); }

struct TailOptions {
  std::string stream, type;
  std::uint64_t from = 1;
  std::uint64_t last = 0;   // 0 = every matching event from `from`
  std::uint64_t limit = 0;  // 0 = no limit
  bool follow = false;
};

bool matches(const TailOptions& t, const Event& e) {
  return (t.stream.empty() || e.stream == t.stream) && (t.type.empty() || e.type == t.type);
}

// Calls `fn` for each event of `partition` matching `t`, from `next` to its
// head (`next` follows); false once `fn` returned false.
Result<bool> each_match(EventLog& log, std::uint32_t partition, std::uint64_t& next, const TailOptions& t,
                        const std::function<bool(const Event&)>& fn) {
  for (;;) {
    auto batch = log.read_forward(partition, next, 4096);
    if (!batch) return batch.error();
    for (const auto& e : *batch) {
      next = e.position + 1;
      if (matches(t, e) && !fn(e)) return false;
    }
    if (batch->size() < 4096) return true;
  }
}

// Where `--last N` starts in `partition`: the position of the Nth matching
// event from its head, at or after --from. Positions are dense (1..head), so
// without a filter no scan is needed.
Result<std::uint64_t> start_of_last(EventLog& log, std::uint32_t partition, const TailOptions& t) {
  const std::uint64_t head = log.head().offsets.at(partition);
  if (t.stream.empty() && t.type.empty()) return std::max(t.from, head >= t.last ? head - t.last + 1 : 1);
  std::deque<std::uint64_t> kept;  // positions of the last `t.last` matches
  std::uint64_t next = t.from;
  auto read = each_match(log, partition, next, t, [&](const Event& e) {
    kept.push_back(e.position);
    if (kept.size() > t.last) kept.pop_front();
    return true;
  });
  if (!read) return read.error();
  return kept.empty() ? next : kept.front();
}

// Prints the matching events of `partition` from `next` to its head; false once --limit is reached.
Result<bool> print_partition(EventLog& log, std::uint32_t partition, std::uint64_t& next, const TailOptions& t,
                             std::uint64_t& printed) {
  return each_match(log, partition, next, t, [&](const Event& e) {
    cli::print_json(to_cloudevent(e));
    return !(t.limit && ++printed >= t.limit);
  });
}

// Each partition in turn, in its order (--from and --last count in each).
int tail(const std::string& data_dir, const TailOptions& t) {
  std::uint64_t printed = 0;
  std::vector<std::uint64_t> next;
  for (bool first = true;; first = false) {
    auto log = open_read_only(data_dir);
    if (!log) return fail(log.error());
    next.resize((*log)->partitions(), t.from);
    for (std::uint32_t p = 0; p < next.size(); ++p) {
      if (first && t.last) {
        auto start = start_of_last(**log, p, t);
        if (!start) return fail(start.error());
        next[p] = *start;
      }
      auto more = print_partition(**log, p, next[p], t, printed);
      if (!more) return fail(more.error());
      if (!*more) return 0;
    }
    std::cout.flush();
    if (!t.follow) return 0;
    // A read-only handle sees the log as of its opening: reopen to follow.
    (*log)->close();
    ::usleep(200'000);
  }
}

int stats(const std::string& data_dir) {
  auto log = open_read_only(data_dir);
  if (!log) return fail(log.error());
  std::map<std::string, std::uint64_t> types;
  std::uint64_t events = 0, bytes = 0, total = 0;
  std::set<std::string> streams;
  ProgressBar progress("stats");
  const auto head = (*log)->head();
  for (auto n : head.offsets) total += n;
  for (std::uint32_t p = 0; p < (*log)->partitions(); ++p) {
    for (std::uint64_t next = 1;;) {
      auto batch = (*log)->read_forward(p, next, 4096);
      if (!batch) return fail(batch.error());
      for (const auto& e : *batch) {
        ++events;
        ++types[e.type];
        bytes += e.data.size();
        streams.insert(e.stream);
        next = e.position + 1;
      }
      progress.update(events, total);
      if (batch->size() < 4096) break;
    }
  }
  progress.done();
  boost::json::object o;
  o["position"] = head.str();
  o["events"] = events;
  o["streams"] = streams.size();
  o["payload_bytes"] = bytes;
  boost::json::object by_type;
  for (const auto& [k, v] : types) by_type[k] = v;
  o["types"] = std::move(by_type);
  cli::print_json(o);
  return 0;
}

// Every partition's chain (one chain each), then the aggregate records.
int verify(const std::string& data_dir) {
  auto log = open_read_only(data_dir);
  if (!log) return fail(log.error());
  const auto head = (*log)->head();
  boost::json::object o;
  std::uint64_t events = 0;
  boost::json::array chain_heads;
  for (std::uint32_t p = 0; p < (*log)->partitions(); ++p) {
    ProgressBar chain_progress("chain");
    auto chain = verify_chain(**log, p, head.offsets.at(p), (*log)->chain_head(p),
                              [&](std::uint64_t d, std::uint64_t t) { chain_progress.update(d, t); });
    chain_progress.done();
    events += chain.events;
    chain_heads.emplace_back(hex((*log)->chain_head(p)));
    if (chain.problem) {
      o["events"] = events;
      o["ok"] = false;
      o["problem"] = *chain.problem;
      o["partition"] = p;
      o["position"] = chain.problem_position;
      cli::print_json(o);
      return 3;
    }
  }
  o["events"] = events;
  auto records = (*log)->all_aggregates();
  if (!records) return fail(records.error());
  Upcaster upcaster;
  ProgressBar agg_progress("aggregates");
  auto aggs = verify_aggregates(**log, upcaster, *records,
                                [&](std::uint64_t d, std::uint64_t t) { agg_progress.update(d, t); });
  agg_progress.done();
  o["aggregates"] = aggs.aggregates;
  o["chain_head"] = chain_heads.size() == 1 ? chain_heads.front() : boost::json::value(chain_heads);
  if (aggs.problem) {
    o["ok"] = false;
    o["problem"] = *aggs.problem;
    cli::print_json(o);
    return 3;
  }
  o["ok"] = true;
  cli::print_json(o);
  return 0;
}

// A count of 1 or more (CLI11's PositiveNumber would print its bounds as
// 300-digit doubles).
CLI::Validator at_least_one() {
  return CLI::Validator(
      [](std::string& v) {
        std::uint64_t n = 0;
        const bool ok = !v.empty() && v.front() != '-' && CLI::detail::lexical_cast(v, n) && n >= 1;
        return ok ? std::string() : "must be a whole number, 1 or more (got " + v + ")";
      },
      "N >= 1");
}

// (subcommand, flag, environment variable): applied as flags unless given.
using EnvFlags = std::vector<std::tuple<std::string, std::string, std::string>>;

// Registers an option's environment variable and names it in the option's
// help line. CLI11's own envname() is not used: it would rank the config file
// above the environment, and set the options of subcommands that did not run
// (several share one variable, such as data_dir).
CLI::Option* with_env(EnvFlags& flags, CLI::Option* o, const std::string& sub, const std::string& flag,
                      const std::string& var) {
  flags.emplace_back(sub, flag, var);
  o->description(o->get_description() + " (env: " + var + ")");
  return o;
}

// The deepest command given ("log tail"); `path` gets " log tail".
const CLI::App* deepest_command(const CLI::App& app, std::string& path) {
  const CLI::App* at = &app;
  while (!at->get_subcommands().empty()) {
    at = at->get_subcommands().front();
    path += " " + at->get_name();
  }
  return at;
}

// The word given where `cmd` wanted a subcommand ("frobnicate" in `causeway
// frobnicate` or `causeway log frobnicate`), or "" when there is none.
std::string stray_command(const CLI::App& cmd) {
  if (cmd.get_require_subcommand_min() == 0) return {};
  for (const auto& word : cmd.remaining())
    if (!word.empty() && word.front() != '-') return word;
  return {};
}

// CLI11's "INI was not able to parse serve.bogus", in words, naming the file.
std::string config_problem(const CLI::App& app, const std::string& what) {
  const auto* opt = app.get_config_ptr();
  const std::string file = opt && !opt->results().empty() ? opt->results().back() : "the --config file";
  const std::string prefix = "INI was not able to parse ";
  if (what.rfind(prefix, 0) != 0) return file + ": " + what;
  const std::string item = what.substr(prefix.size());
  const auto dot = item.rfind('.');
  const std::string section = dot == std::string::npos ? "" : item.substr(0, dot);
  const std::string key = dot == std::string::npos ? item : item.substr(dot + 1);
  if (key == "++" || key == "--") return file + ": unknown section [" + section + "] (sections are commands, like [serve])";
  if (section.empty()) return file + ": unknown key '" + key + "' outside a section (put it under its command, like [serve])";
  return file + ": unknown key '" + key + "' in section [" + section + "] (keys are that command's flag names)";
}

// A command line CLI11 refused. --help and --version exit 0; anything else is
// a usage error: one line on stderr naming the problem, exit 2.
int usage_error(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) return app.exit(e);
  std::string path;
  const CLI::App* cmd = deepest_command(app, path);
  const std::string see = "; see causeway" + path + " --help\n";
  if (auto word = stray_command(*cmd); !word.empty())
    std::cerr << "causeway: unknown command '" << (path.empty() ? "" : path.substr(1) + " ") << word << "'" << see;
  else if (e.get_name() == "ConfigError")
    std::cerr << "causeway: " << config_problem(app, e.what()) << "\n";
  else
    std::cerr << "causeway: " << e.what() << see;
  return cli::kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Causeway: event-sourced workflow engine"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("causeway ") + CAUSEWAY_VERSION, "print the version and exit");
  app.set_config("--config", "", "configuration file (TOML or INI; keys are flag names)");
  app.allow_config_extras(false);  // an unknown key in the file is an error, not ignored

  EnvFlags env_flags;
  auto env = [&](CLI::Option* o, const char* sub, const char* flag, const char* var) {
    return with_env(env_flags, o, sub, flag, var);
  };

  ServerConfig cfg;
  auto* serve_cmd = app.add_subcommand("serve", "serve the HTTP API on the embedded log");
  env(serve_cmd->add_option("--data-dir", cfg.data_dir, "data folder"), "serve", "--data-dir", "CAUSEWAY_DATA_DIR")->capture_default_str();
  env(serve_cmd->add_option("--listen", cfg.listen_address, "listen address"), "serve", "--listen", "CAUSEWAY_LISTEN")->capture_default_str();
  env(serve_cmd->add_option("--port", cfg.port, "TCP port (0 = any free port)"), "serve", "--port", "CAUSEWAY_PORT")->capture_default_str();
  env(serve_cmd->add_option("--io-threads", cfg.io_threads, "I/O threads (0 = one per core but one)"), "serve", "--io-threads", "CAUSEWAY_IO_THREADS");
  env(serve_cmd->add_option("--max-body-bytes", cfg.max_body_bytes, "request body limit"), "serve", "--max-body-bytes", "CAUSEWAY_MAX_BODY_BYTES")->capture_default_str();
  env(serve_cmd->add_option("--master-key-file", cfg.master_key_file, "file with the 64-hex-digit master key"), "serve", "--master-key-file", "CAUSEWAY_MASTER_KEY_FILE");
  env(serve_cmd->add_option("--master-key", cfg.master_key_hex, "master key as 64 hex digits (prefer the file)"), "serve", "--master-key", "CAUSEWAY_MASTER_KEY");
  env(serve_cmd->add_option("--admin-token", cfg.admin_token, "admin bearer token"), "serve", "--admin-token", "CAUSEWAY_ADMIN_TOKEN");
  env(serve_cmd->add_option("--log-level", cfg.log_level, "trace|debug|info|warn|error"), "serve", "--log-level", "CAUSEWAY_LOG_LEVEL")->capture_default_str()->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical"}));
  env(serve_cmd->add_option("--max-json-depth", cfg.max_json_depth, "deepest JSON nesting accepted"), "serve", "--max-json-depth", "CAUSEWAY_MAX_JSON_DEPTH")->capture_default_str();
  std::int64_t read_timeout_ms = cfg.read_timeout.count();
  env(serve_cmd->add_option("--read-timeout-ms", read_timeout_ms, "timeout per read of a request body"), "serve", "--read-timeout-ms", "CAUSEWAY_READ_TIMEOUT_MS")->capture_default_str();
  std::int64_t header_timeout_ms = cfg.header_timeout.count();
  env(serve_cmd->add_option("--header-timeout-ms", header_timeout_ms, "longest wait for a complete request header (new or kept-alive connections)"), "serve", "--header-timeout-ms", "CAUSEWAY_HEADER_TIMEOUT_MS")->capture_default_str();
  env(serve_cmd->add_option("--max-connections", cfg.max_connections, "connections open at once (0 = three quarters of the descriptor limit)"), "serve", "--max-connections", "CAUSEWAY_MAX_CONNECTIONS")->capture_default_str();
  env(serve_cmd->add_option("--max-connections-per-peer", cfg.max_connections_per_peer, "connections open at once from one peer address (0 = no limit)"), "serve", "--max-connections-per-peer", "CAUSEWAY_MAX_CONNECTIONS_PER_PEER")->capture_default_str();
  env(serve_cmd->add_option("--idempotency-retention-s", cfg.idempotency_retention_s, "how long Idempotency-Key replies are kept"), "serve", "--idempotency-retention-s", "CAUSEWAY_IDEMPOTENCY_RETENTION_S")->capture_default_str();
  env(serve_cmd->add_option("--password-opslimit", cfg.password.opslimit, "argon2id passes"), "serve", "--password-opslimit", "CAUSEWAY_PASSWORD_OPSLIMIT")->capture_default_str();
  env(serve_cmd->add_option("--password-memlimit", cfg.password.memlimit, "argon2id memory in bytes"), "serve", "--password-memlimit", "CAUSEWAY_PASSWORD_MEMLIMIT")->capture_default_str();
  env(serve_cmd->add_option("--access-token-ttl-s", cfg.access_token_ttl_s, "lifetime of session access tokens"), "serve", "--access-token-ttl-s", "CAUSEWAY_ACCESS_TOKEN_TTL_S")->capture_default_str();
  env(serve_cmd->add_option("--refresh-token-ttl-s", cfg.refresh_token_ttl_s, "lifetime of session refresh tokens"), "serve", "--refresh-token-ttl-s", "CAUSEWAY_REFRESH_TOKEN_TTL_S")->capture_default_str();
  env(serve_cmd->add_option("--password-max-age-days", cfg.password_max_age_days, "passwords older than this must be changed before the next login (0 = never)"), "serve", "--password-max-age-days", "CAUSEWAY_PASSWORD_MAX_AGE_DAYS")->capture_default_str();
  env(serve_cmd->add_option("--login-attempts-per-ip-per-minute", cfg.login_attempts_per_ip_per_minute, "login and refresh attempts a minute per peer address (0 = no limit)"), "serve", "--login-attempts-per-ip-per-minute", "CAUSEWAY_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE")->capture_default_str();
  env(serve_cmd->add_flag("--read-only", cfg.read_only, "inspect a restored or copied data folder: refuse every command and run no workflow actions, timers, mail, retention or audit checkpoints"), "serve", "--read-only", "CAUSEWAY_READ_ONLY");
  env(serve_cmd->add_option("--workflow-http-allow", cfg.workflow_http_allow, "CIDR list of loopback, private or other special-use addresses workflows' HTTP actions may reach (default: none; public addresses always)"), "serve", "--workflow-http-allow", "CAUSEWAY_WORKFLOW_HTTP_ALLOW");
  env(serve_cmd->add_option("--admin-allow", cfg.admin_allow, "CIDR list of peer addresses that may use /v1/admin/* and the admin token (empty: any)"), "serve", "--admin-allow", "CAUSEWAY_ADMIN_ALLOW")->capture_default_str();
  std::int64_t read_wait_ms = cfg.read_wait.count(), query_timeout_ms = cfg.query_timeout.count();
  env(serve_cmd->add_option("--read-wait-ms", read_wait_ms, "longest read-your-writes wait before 503"), "serve", "--read-wait-ms", "CAUSEWAY_READ_WAIT_MS")->capture_default_str();
  env(serve_cmd->add_option("--query-max-rows", cfg.query_max_rows, "analyst SQL: rows per response"), "serve", "--query-max-rows", "CAUSEWAY_QUERY_MAX_ROWS")->capture_default_str();
  env(serve_cmd->add_option("--query-max-bytes", cfg.query_max_bytes, "analyst SQL: bytes of values per response"), "serve", "--query-max-bytes", "CAUSEWAY_QUERY_MAX_BYTES")->capture_default_str();
  env(serve_cmd->add_option("--query-timeout-ms", query_timeout_ms, "analyst SQL: time limit per statement"), "serve", "--query-timeout-ms", "CAUSEWAY_QUERY_TIMEOUT_MS")->capture_default_str();
  env(serve_cmd->add_option("--audit-checkpoint-events", cfg.audit_checkpoint_events, "sign the audit chain after this many events (0 = not by count)"), "serve", "--audit-checkpoint-events", "CAUSEWAY_AUDIT_CHECKPOINT_EVENTS")->capture_default_str();
  env(serve_cmd->add_option("--audit-checkpoint-interval-s", cfg.audit_checkpoint_interval_s, "...and at least this often while events arrive (0 = not by time)"), "serve", "--audit-checkpoint-interval-s", "CAUSEWAY_AUDIT_CHECKPOINT_INTERVAL_S")->capture_default_str();
  env(serve_cmd->add_option("--retention-sweep-interval-s", cfg.retention_sweep_interval_s, "How often expired personal data is destroyed under the retention policies (0 = only through POST /v1/admin/retention/sweeps)"), "serve", "--retention-sweep-interval-s", "CAUSEWAY_RETENTION_SWEEP_INTERVAL_S")->capture_default_str();
  env(serve_cmd->add_option("--key-snapshot-dir", cfg.key_snapshot_dir, "where backups and erasures write key snapshots, the data keys kept apart from backups (default <data-dir>/key-snapshots)"), "serve", "--key-snapshot-dir", "CAUSEWAY_KEY_SNAPSHOT_DIR");
  env(serve_cmd->add_option("--key-snapshot-retention-days", cfg.key_snapshot_retention_days, "key snapshots older than this are deleted (the newest is kept; an erasure deletes every older one at once)")->check(CLI::Range(1, 3650)), "serve", "--key-snapshot-retention-days", "CAUSEWAY_KEY_SNAPSHOT_RETENTION_DAYS")->capture_default_str();
  env(serve_cmd->add_option("--stuck-check-interval-s", cfg.stuck_check_interval_s, "How often running workflow runs are checked for making no progress (each workflow's stuck_after_ms)"), "serve", "--stuck-check-interval-s", "CAUSEWAY_STUCK_CHECK_INTERVAL_S")->capture_default_str();
  env(serve_cmd->add_option("--plans", cfg.plans_file, "JSON file with the plans, their limits and features, and the feature flags (docs/billing.md); default built in"), "serve", "--plans", "CAUSEWAY_PLANS");
  env(serve_cmd->add_option("--billing-webhook-secret", cfg.billing_webhook_secret, "shared secret that signs the payment provider's webhooks (default: <data-dir>/billing-webhook.secret, generated)"), "serve", "--billing-webhook-secret", "CAUSEWAY_BILLING_WEBHOOK_SECRET");
  env(serve_cmd->add_option("--smtp-url", cfg.smtp_url, "send mail through this SMTP server (smtp://host:port or smtps://host:port); default: .eml files in <data-dir>/mail/"), "serve", "--smtp-url", "CAUSEWAY_SMTP_URL");
  env(serve_cmd->add_option("--smtp-username", cfg.smtp_username, "SMTP login"), "serve", "--smtp-username", "CAUSEWAY_SMTP_USERNAME");
  env(serve_cmd->add_option("--smtp-password", cfg.smtp_password, "SMTP password (prefer the environment variable)"), "serve", "--smtp-password", "CAUSEWAY_SMTP_PASSWORD");
  env(serve_cmd->add_option("--mail-from", cfg.mail_from, "the From of outgoing mail"), "serve", "--mail-from", "CAUSEWAY_MAIL_FROM")->capture_default_str();
  env(serve_cmd->add_option("--public-url", cfg.public_url, "the product's address, for the links in mail (verification, password reset, sign-in); default: http://<listen address>:<port>"), "serve", "--public-url", "CAUSEWAY_PUBLIC_URL");
  env(serve_cmd->add_option("--gdpr-metadata-file", cfg.gdpr_metadata_file, "JSON object with the GDPR Art. 15 metadata of subject access exports (purposes, categories, recipients, retention, source); default built in"), "serve", "--gdpr-metadata-file", "CAUSEWAY_GDPR_METADATA_FILE");
  std::string data_dir = "./data";
  auto* log_cmd = app.add_subcommand("log", "inspect the event log (read-only, safe while serving)");
  log_cmd->require_subcommand(1);
  env(log_cmd->add_option("--data-dir", data_dir, "data folder"), "log", "--data-dir", "CAUSEWAY_DATA_DIR")->capture_default_str();
  TailOptions topts;
  auto* tail_cmd = log_cmd->add_subcommand("tail", "print events as CloudEvents JSON lines");
  tail_cmd->add_option("--stream", topts.stream, "only this stream");
  tail_cmd->add_option("--type", topts.type, "only this event type");
  tail_cmd->add_option("--from", topts.from, "first position")->capture_default_str();
  tail_cmd->add_option("--last", topts.last, "start with the last N matching events (at or after --from)")
      ->check(at_least_one());
  tail_cmd->add_option("--limit", topts.limit, "stop after this many events");
  tail_cmd->add_flag("--follow,-f", topts.follow, "keep printing new events");
  auto* stats_cmd = log_cmd->add_subcommand("stats", "counts and sizes");
  auto* verify_cmd = log_cmd->add_subcommand("verify", "recompute the hash chain and aggregate state");

  // `causeway log verify --data-dir X` reads the parent's option too.
  for (auto* sub : {tail_cmd, stats_cmd, verify_cmd}) sub->fallthrough();

  auto* proj_cmd = app.add_subcommand("projections", "the SQLite views: status and rebuild");
  proj_cmd->require_subcommand(1);
  env(proj_cmd->add_option("--data-dir", data_dir, "data folder"), "projections", "--data-dir", "CAUSEWAY_DATA_DIR")->capture_default_str();
  auto* pstatus_cmd = proj_cmd->add_subcommand("status", "state, checkpoint and lag of every projection (safe while serving)");
  std::vector<std::string> rebuild_names;
  bool rebuild_all = false;
  auto* rebuild_cmd = proj_cmd->add_subcommand("rebuild", "replay projections into a new generation and publish it (server stopped)");
  rebuild_cmd->add_option("names", rebuild_names, "projections to rebuild");
  rebuild_cmd->add_flag("--all", rebuild_all, "rebuild every projection");
  for (auto* sub : {pstatus_cmd, rebuild_cmd}) sub->fallthrough();

  cli::QueryOptions qopts;
  std::string query_tenant, query_format = "jsonl";
  auto* query_cmd = app.add_subcommand("query", "read-only SQL over the views, streamed (safe while serving)");
  env(query_cmd->add_option("--data-dir", data_dir, "data folder"), "query", "--data-dir", "CAUSEWAY_DATA_DIR")->capture_default_str();
  query_cmd->add_option("sql", qopts.sql, "one SELECT statement")->required();
  query_cmd->add_option("--tenant", query_tenant, "only this organization's rows (as its analysts see them)");
  query_cmd->add_option("--format", query_format, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}))->capture_default_str();
  query_cmd->add_option("--max-rows", qopts.max_rows, "stop after this many rows")->capture_default_str();
  query_cmd->add_option("--timeout-ms", qopts.timeout_ms, "interrupt the statement after this long")->capture_default_str();

  cli::BackupArgs backup_args;
  auto* backup_cmd = app.add_subcommand("backup", "back up the data folder (server stopped; online: POST /v1/admin/backups)");
  env(backup_cmd->add_option("--data-dir", data_dir, "data folder"), "backup", "--data-dir", "CAUSEWAY_DATA_DIR")->capture_default_str();
  backup_cmd->add_option("--to", backup_args.to, "new folder for the backup (must not exist)")->required();
  backup_cmd->add_flag("--include-secrets", backup_args.include_secrets, "also copy master.key and admin.token (0600)");
  env(backup_cmd->add_option("--master-key-file", backup_args.master_key_file, "the master key to copy with --include-secrets (default <data-dir>/master.key)"), "backup", "--master-key-file", "CAUSEWAY_MASTER_KEY_FILE");
  env(backup_cmd->add_option("--key-snapshot-dir", backup_args.key_snapshot_dir, "where the backup's key snapshot goes (default <data-dir>/key-snapshots)"), "backup", "--key-snapshot-dir", "CAUSEWAY_KEY_SNAPSHOT_DIR");
  env(backup_cmd->add_option("--key-snapshot-retention-days", backup_args.key_snapshot_retention_days, "key snapshots older than this are deleted (the newest is kept)")->check(CLI::Range(1, 3650)), "backup", "--key-snapshot-retention-days", "CAUSEWAY_KEY_SNAPSHOT_RETENTION_DAYS")->capture_default_str();
  std::string restore_from, restore_dir, restore_keys;
  auto* restore_cmd = app.add_subcommand("restore", "check a backup and restore it into a new or empty data folder");
  restore_cmd->add_option("--from", restore_from, "backup folder")->required();
  restore_cmd->add_option("--data-dir", restore_dir, "data folder to create (must be new or empty)")->required();
  restore_cmd->add_option("--keys", restore_keys, "the key snapshot to take the data keys from, or a folder of them (its newest); needed for backups that hold no keys");

  auto* audit_cmd = app.add_subcommand("audit", "the audit trail: export, verify, public key");
  audit_cmd->require_subcommand(1);
  cli::MasterKeySource audit_key;
  env(audit_cmd->add_option("--data-dir", data_dir, "data folder"), "audit", "--data-dir", "CAUSEWAY_DATA_DIR")->capture_default_str();
  env(audit_cmd->add_option("--master-key-file", audit_key.file, "file with the master key (default <data-dir>/master.key)"), "audit", "--master-key-file", "CAUSEWAY_MASTER_KEY_FILE");
  env(audit_cmd->add_option("--master-key", audit_key.hex, "master key as 64 hex digits"), "audit", "--master-key", "CAUSEWAY_MASTER_KEY");
  audit::ExportQuery xq;
  std::string x_reason, x_out = "-", x_format = "jsonl", x_since, x_until;
  auto* export_cmd = audit_cmd->add_subcommand("export", "export a range of the log, signed and verifiable (server stopped)");
  export_cmd->add_option("--reason", x_reason, "why (recorded with the export)")->required();
  export_cmd->add_option("--from", xq.from, "first position")->capture_default_str();
  export_cmd->add_option("--to", xq.to, "last position (default: the head)");
  export_cmd->add_option("--since", x_since, "recorded at or after (RFC 3339 UTC)");
  export_cmd->add_option("--until", x_until, "recorded before (RFC 3339 UTC)");
  export_cmd->add_option("--tenant", xq.tenant, "only this organization");
  export_cmd->add_option("--actor", xq.actor, "only this actor (or impersonator)");
  export_cmd->add_option("--subject", xq.subject, "only events about this data subject");
  export_cmd->add_option("--type", xq.type, "only this event type");
  export_cmd->add_option("--stream", xq.stream, "only this stream");
  export_cmd->add_option("--format", x_format, "jsonl (verifiable) or csv")->check(CLI::IsMember({"jsonl", "csv"}))->capture_default_str();
  export_cmd->add_option("--out,-o", x_out, "file to write, - for stdout")->capture_default_str();
  std::string v_file, v_key, v_key_file;
  auto* averify_cmd = audit_cmd->add_subcommand("verify", "verify an export FILE offline, or the live log");
  averify_cmd->add_option("file", v_file, "an export written by `audit export` (omit: the live log)");
  averify_cmd->add_option("--public-key", v_key, "64 hex digits (see `audit public-key`)");
  averify_cmd->add_option("--public-key-file", v_key_file, "file holding the public key");
  auto* pubkey_cmd = audit_cmd->add_subcommand("public-key", "print the key that verifies checkpoints");
  for (auto* sub : {export_cmd, averify_cmd, pubkey_cmd}) sub->fallthrough();

  cli::AdminCommands admin;
  admin.add(app, [&](CLI::Option* o, const std::string& sub, const std::string& flag, const std::string& var) {
    return with_env(env_flags, o, sub, flag, var);
  });

  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& [sub, flag, var] : env_flags) {
    if (std::find(args.begin(), args.end(), sub) == args.end()) continue;  // another subcommand
    bool given = std::any_of(args.begin(), args.end(), [&](const std::string& a) {
      return a == flag || a.rfind(flag + "=", 0) == 0;
    });
    if (const char* v = std::getenv(var.c_str()); v && !given) args.push_back(flag + "=" + v);
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes the vector back to front
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e);
  }
  if (sodium_init() < 0) {
    std::cerr << "causeway: libsodium failed to initialize\n";
    return cli::kExitError;
  }
  cfg.read_timeout = std::chrono::milliseconds(read_timeout_ms);
  cfg.header_timeout = std::chrono::milliseconds(header_timeout_ms);
  cfg.read_wait = std::chrono::milliseconds(read_wait_ms);
  cfg.query_timeout = std::chrono::milliseconds(query_timeout_ms);
  if (serve_cmd->parsed()) return serve(cfg);
  if (auto code = admin.run()) return *code;
  if (tail_cmd->parsed()) return tail(data_dir, topts);
  if (stats_cmd->parsed()) return stats(data_dir);
  if (verify_cmd->parsed()) return verify(data_dir);
  if (pstatus_cmd->parsed()) return cli::projections_status(data_dir);
  if (rebuild_cmd->parsed()) return cli::projections_rebuild(data_dir, rebuild_names, rebuild_all);
  if (backup_cmd->parsed()) return cli::backup(data_dir, backup_args);
  if (restore_cmd->parsed()) return cli::restore(restore_from, restore_dir, restore_keys);
  if (export_cmd->parsed()) {
    for (auto [text, slot] : {std::pair{&x_since, &xq.since_us}, {&x_until, &xq.until_us}}) {
      if (text->empty()) continue;
      auto t = parse_rfc3339_us(*text);
      if (!t) {
        std::cerr << "causeway: --since/--until must be RFC 3339 UTC times like 2026-11-22T10:00:00Z\n";
        return 2;
      }
      *slot = *t;
    }
    xq.format = x_format == "csv" ? audit::ExportQuery::Format::csv : audit::ExportQuery::Format::jsonl;
    return cli::audit_export(data_dir, audit_key, xq, x_reason, x_out);
  }
  if (averify_cmd->parsed()) return cli::audit_verify(data_dir, audit_key, v_file, v_key, v_key_file);
  if (pubkey_cmd->parsed()) return cli::audit_public_key(data_dir, audit_key);
  if (query_cmd->parsed()) {
    if (!query_tenant.empty()) qopts.tenant = query_tenant;
    qopts.csv = query_format == "csv";
    return cli::query(data_dir, qopts);
  }
  return 2;
}
