// Server configuration. tools/ fills it from flags, then the environment, then a
// file (CLI11), in that order of precedence.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/password.h"

namespace causeway {

struct ServerConfig {
  std::string data_dir = "./data";
  std::string listen_address = "127.0.0.1";
  unsigned short port = 8080;             // 0 = pick a free port (tests)
  unsigned io_threads = 0;                // 0 = one per core but one (api::default_io_threads)
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_json_depth = 32;
  std::chrono::milliseconds read_timeout{30'000};   // each read of a request's body
  std::chrono::milliseconds write_timeout{30'000};
  // Until a request's header is complete (a new connection, or a kept-alive
  // one between requests): far shorter than read_timeout, so connections that
  // send nothing, or a header byte by byte, are closed soon.
  std::chrono::milliseconds header_timeout{10'000};
  std::size_t max_connections = 0;            // open at once; 0 = three quarters of the descriptor limit
  std::size_t max_connections_per_peer = 256;  // open at once from one peer address (0 = no limit)
  std::string master_key_hex;             // empty: master_key_file, else generated
  std::string master_key_file;            // default <data_dir>/master.key
  std::string admin_token;                // empty: <data_dir>/admin.token, generated
  bool sync = true;                       // fsync before acknowledging (never off in production)
  std::int64_t idempotency_retention_s = 24 * 3600;
  PasswordParams password;
  std::string log_level = "info";
  std::chrono::milliseconds read_wait{2'000};  // longest read-your-writes wait before 503
  std::size_t query_max_rows = 10'000;         // analyst SQL: rows per response
  std::size_t query_max_bytes = 32u << 20;     // analyst SQL: bytes of values per response
  std::chrono::milliseconds query_timeout{5'000};
  std::uint64_t audit_checkpoint_events = 1000;  // sign the chain after this many events (0 = never by count)
  std::int64_t audit_checkpoint_interval_s = 60;
  std::uint64_t audit_export_max_positions = 200'000;  // per API export (built in memory); the CLI streams
  std::int64_t retention_sweep_interval_s = 3600;  // background retention sweeps (0 = only on request)
  // Key snapshots (api/key_snapshots.h): written by each backup and after each
  // erasure or retention expiry; older ones deleted after the retention.
  std::string key_snapshot_dir;  // default <data_dir>/key-snapshots
  std::int64_t key_snapshot_retention_days = 7;
  std::int64_t stuck_check_interval_s = 60;  // how often running workflow runs are checked for no progress
  // Peer addresses (CIDR list) that may use /v1/admin/* and the admin token;
  // empty allows every address.
  std::string admin_allow = "127.0.0.0/8,::1/128";
  // CIDR list of special-use destinations (loopback, private, link-local, ...)
  // that workflows' HTTP actions may reach all the same; empty: none
  // (engine/workflow/egress.h). Public addresses are always allowed.
  std::string workflow_http_allow;
  // For inspecting a restored or copied data folder: serve reads only. No
  // command is run (503), and nothing acts on the world or writes: no
  // workflow actions, timers or triggers, no mail, no billing timers, no
  // retention sweeps, no audit checkpoints. The views are kept up to date.
  bool read_only = false;
  std::size_t login_attempts_per_ip_per_minute = 20;  // POST /v1/sessions and /refresh (0 = no limit)
  std::int64_t access_token_ttl_s = 15 * 60;
  std::int64_t password_max_age_days = 0;  // login refuses older passwords (403) until changed; 0 = no expiry
  std::int64_t refresh_token_ttl_s = 30 * 86400;
  std::string plans_file;  // plans, limits, features, flags (engine/billing/plans.h); empty: built-in
  std::string billing_webhook_secret;  // signs payment webhooks; empty: <data_dir>/billing-webhook.secret, generated
  // Outgoing mail (engine/mail/outbox.h): SMTP when smtp_url is set, else
  // one .eml file per message in <data_dir>/mail/.
  std::string smtp_url;  // smtp://host:port or smtps://host:port
  std::string smtp_username, smtp_password;
  std::string mail_from = "Causeway <no-reply@causeway.localhost>";
  // The product's address, for the links in mail; empty: the address the
  // server listens on (http://<listen_address>:<port>, localhost for a
  // wildcard address), see public_url_of().
  std::string public_url;
  std::string gdpr_metadata_file;  // Art. 15 metadata of subject access exports (api/gdpr.h); empty: built-in
};

// cfg.public_url, else the address a server listening on cfg.listen_address
// at `port` is reached at: "http://<address>:<port>", with "localhost" for a
// wildcard address (0.0.0.0, ::) and brackets around an IPv6 one.
inline std::string public_url_of(const ServerConfig& cfg, unsigned short port) {
  if (!cfg.public_url.empty()) {
    std::string url = cfg.public_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
  }
  std::string host = cfg.listen_address;
  if (host.empty() || host == "0.0.0.0" || host == "::") host = "localhost";
  else if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port);
}

}  // namespace causeway
