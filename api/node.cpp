#include "api/node.h"

#include "events/cidr.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "api/gdpr.h"
#include "api/log.h"
#include "engine/ids.h"
#include "engine/billing/timers.h"
#include "engine/commands/traits.h"
#include "engine/workflow/recovery.h"

namespace causeway {

namespace {
// The configured secret, else the one in `path`, generated (random hex, 0600) at the first start.
Result<std::string> configured_or_generated(const std::string& configured, const std::string& path, bool& created) {
  created = false;
  if (!configured.empty()) return configured;
  return load_or_create_secret(path, [] { return random_token_hex(); }, created);
}

Result<billing::Plans> load_plans(const std::string& path, const SchemaRegistry& schemas) {
  if (path.empty()) return billing::Plans::builtin(schemas);
  std::ifstream in(path);
  if (!in) return Error::invalid(fmt::format("cannot read the plans file {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto plans = billing::Plans::parse(ss.str(), schemas);
  if (!plans) return Error::invalid(fmt::format("--plans {}: {}", path, plans.error().message));
  return plans;
}
}  // namespace

Result<std::string> load_or_create_secret(const std::string& path, const std::function<std::string()>& make,
                                          bool& created) {
  created = false;
  std::ifstream in(path);
  if (in) {
    std::string s;
    std::getline(in, s);
    if (s.empty()) return Error::invalid(fmt::format("{} is empty", path));
    return s;
  }
  std::string secret = make();
  if (auto st = create_secret_file(path, secret); !st) return std::move(st).error();
  created = true;
  return secret;
}

Result<std::unique_ptr<Node>> Node::open(const ServerConfig& cfg, const Clock* clock, SharedLog shared) {
  if (sodium_init() < 0) return Error::unavailable("libsodium failed to initialize");
  std::unique_ptr<Node> n(new Node());
  n->cfg_ = cfg;
  std::error_code fec;
  std::filesystem::create_directories(cfg.data_dir, fec);
  if (fec) return Error::unavailable(fmt::format("cannot create data folder {}: {}", cfg.data_dir, fec.message()));

  SecretKey master;
  if (!cfg.master_key_hex.empty()) {
    auto k = parse_master_key_hex(cfg.master_key_hex);
    if (!k) return std::move(k).error();
    master = *k;
  } else {
    std::string path = cfg.master_key_file.empty() ? cfg.data_dir + "/master.key" : cfg.master_key_file;
    // A log without its key (a restore without secrets, a lost file) must not
    // get a fresh key silently: its sealed fields would never open again.
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !shared.log && std::filesystem::exists(cfg.data_dir + "/log/CURRENT", ec))
      return Error::invalid(fmt::format(
          "{} holds a log but there is no master key at {}: give the original key with --master-key-file "
          "(or CAUSEWAY_MASTER_KEY); a new key could not open the sealed personal data",
          cfg.data_dir, path));
    bool created = false;
    auto k = load_or_create_master_key(path, created);
    if (!k) return std::move(k).error();
    master = *k;
    if (created)
      log_fields(spdlog::level::warn,
                 "NO MASTER KEY CONFIGURED: generated one next to the data. Anyone who can read the data folder "
                 "can read personal data. Set --master-key-file or CAUSEWAY_MASTER_KEY for production.",
                 {{"path", path}});
  }

  bool created = false;
  auto admin = configured_or_generated(cfg.admin_token, cfg.data_dir + "/admin.token", created);
  if (!admin) return std::move(admin).error();
  n->admin_token_ = std::move(admin).value();
  if (created) log_fields(spdlog::level::warn, "generated an admin token", {{"path", cfg.data_dir + "/admin.token"}});

  if (auto meta = api::load_gdpr_metadata(cfg.gdpr_metadata_file); !meta) return std::move(meta).error();
  auto billing_secret =
      configured_or_generated(cfg.billing_webhook_secret, cfg.data_dir + "/billing-webhook.secret", created);
  if (!billing_secret) return std::move(billing_secret).error();
  n->billing_secret_ = std::move(billing_secret).value();
  if (auto allow = CidrList::parse(cfg.admin_allow); !allow)
    return Error::invalid(fmt::format("--admin-allow: {}", allow.error().message));
  auto egress_trusted = CidrList::parse(cfg.workflow_http_allow);
  if (!egress_trusted) return Error::invalid(fmt::format("--workflow-http-allow: {}", egress_trusted.error().message));

  if (shared.log) {
    n->shared_ = std::move(shared);
    n->log_ = n->shared_.log.get();
    n->vault_ = std::make_unique<KeyVault>(n->shared_.keys, master);
  } else {
    RocksLogOptions lo;
    lo.path = cfg.data_dir + "/log";
    lo.sync = cfg.sync;
    lo.idempotency_retention_us = cfg.idempotency_retention_s * 1'000'000;
    lo.clock = clock;
    auto log = RocksEventLog::open(lo);
    if (!log) return std::move(log).error();
    n->rocks_ = std::move(log).value();
    n->log_ = n->rocks_.get();
    n->vault_ = std::make_unique<KeyVault>(n->rocks_->key_store(), master);
  }
  sodium_memzero(master.data(), master.size());
  auto schemas = SchemaRegistry::from_embedded();
  if (!schemas) return std::move(schemas).error();
  n->schemas_ = std::move(schemas).value();

  n->cpu_ = std::make_unique<boost::asio::thread_pool>(std::max(1u, std::thread::hardware_concurrency()));
  CommandPipeline::Options po;
  po.password = cfg.password;
  po.access_ttl_us = cfg.access_token_ttl_s * 1'000'000;
  po.refresh_ttl_us = cfg.refresh_token_ttl_s * 1'000'000;
  n->pipeline_ = std::make_unique<CommandPipeline>(*n->log_, *n->vault_, *n->schemas_, n->upcaster_,
                                                   clock ? *clock : n->system_clock_, n->cpu_->get_executor(), po);
  n->pipeline_->set_read_only(cfg.read_only);
  register_user_commands(*n->pipeline_);
  register_organization_commands(*n->pipeline_);
  register_inbox_commands(*n->pipeline_);
  register_api_key_commands(*n->pipeline_);
  register_subject_commands(*n->pipeline_);
  register_retention_commands(*n->pipeline_);
  register_session_commands(*n->pipeline_);
  register_totp_commands(*n->pipeline_);
  n->catalog_ = std::make_unique<workflow::Catalog>(*n->pipeline_);
  register_workflow_commands(*n->pipeline_);
  register_run_commands(*n->pipeline_, *n->catalog_);
  auto plans = load_plans(cfg.plans_file, *n->schemas_);
  if (!plans) return std::move(plans).error();
  n->plans_ = std::make_unique<billing::Plans>(std::move(plans).value());
  n->entitlements_ = std::make_unique<billing::Entitlements>(*n->plans_, *n->pipeline_);
  n->pipeline_->set_meter([e = n->entitlements_.get()](const CommandContext& ctx, const std::string& command,
                                                        Plan& plan, std::int64_t now) {
    return e->meter(ctx, command, plan, now);
  });
  // The timers exist before the first command runs (they need the server's I/O executor).
  register_subscription_commands(*n->pipeline_, *n->plans_, [node = n.get()](const std::string& org) {
    if (node->billing_timers_) node->billing_timers_->watch(org);
  });
  ProjectionRuntime::Options vo;
  vo.data_dir = cfg.data_dir;
  vo.clock = clock;
  auto views = ProjectionRuntime::open(*n->log_, n->upcaster_, vo);
  if (!views) return std::move(views).error();
  n->views_ = std::move(views).value();
  n->views_->start();
  n->signer_ = std::make_unique<audit::Signer>(*n->vault_);
  audit::Checkpointer::Options co;
  co.every_events = cfg.audit_checkpoint_events;
  co.every = std::chrono::seconds(cfg.audit_checkpoint_interval_s);
  co.on_failure = [](const Error& e) {
    log_fields(spdlog::level::err, "audit checkpoint failed; retried on the next tick", {{"error", e.message}});
  };
  n->checkpointer_ = std::make_unique<audit::Checkpointer>(*n->log_, *n->signer_, clock ? *clock : n->system_clock_, co);
  if (!cfg.read_only) n->checkpointer_->start();
  n->api_ = std::make_unique<api::Api>(*n->pipeline_, *n->log_, *n->vault_, n->cfg_, n->admin_token_,
                                       n->views_.get());
  n->api_->set_audit(n->signer_.get(), n->checkpointer_.get());
  KeySnapshots::Options ko;
  ko.dir = cfg.key_snapshot_dir.empty() ? cfg.data_dir + "/key-snapshots" : cfg.key_snapshot_dir;
  ko.retention_us = cfg.key_snapshot_retention_days * 86400LL * 1'000'000;
  ko.clock = clock;
  if (n->rocks_) n->key_snapshots_ = std::make_unique<KeySnapshots>(*n->rocks_, ko);
  n->api_->set_key_snapshots(n->key_snapshots_.get());
  // After a key is destroyed (erasure, retention expiry): no copy of it left
  // in the log's files or in a key snapshot (a shared log keeps no files).
  auto purge = [log = n->rocks_.get(), snaps = n->key_snapshots_.get()]() -> Status {
    if (!log) return ok_status();
    if (auto st = log->purge_keys(); !st) return st;
    if (auto made = snaps->write_after_erasure(); !made) return std::move(made).error();
    return ok_status();
  };
  n->api_->set_key_purger(purge);
  retention::RetentionSweeper::Options ro;
  ro.every = std::chrono::seconds(cfg.retention_sweep_interval_s);
  ro.on_failure = [](const Error& e) {
    log_fields(spdlog::level::err, "retention sweep failed; the next one retries", {{"error", e.message}});
  };
  n->retention_ = std::make_unique<retention::RetentionSweeper>(*n->pipeline_, *n->log_, *n->vault_, purge, ro);
  if (!cfg.read_only) n->retention_->start();
  n->api_->set_retention(n->retention_.get());
  n->server_ = std::make_unique<api::Server>(n->cfg_, [api = n->api_.get()](api::Request r) {
    return api->handle(std::move(r));
  });
  workflow::Executor::Options wo;
  wo.stuck_check_interval_us = cfg.stuck_check_interval_s * 1'000'000;
  wo.on_mark_stuck_failure = [](const std::string& run_id, const Error& e) {
    log_fields(spdlog::level::warn, "a stuck run could not be marked; the next check retries",
               {{"run_id", run_id}, {"error", e.message}});
  };
  wo.egress = std::make_shared<const workflow::EgressPolicy>(std::move(egress_trusted).value());
  n->executor_ = std::make_unique<workflow::Executor>(*n->pipeline_, *n->catalog_, n->server_->io().get_executor(),
                                                      clock ? *clock : n->system_clock_, wo);
  n->dispatcher_ = std::make_unique<workflow::Dispatcher>(*n->pipeline_, *n->catalog_, *n->executor_,
                                                          n->server_->io().get_executor(),
                                                          cfg.data_dir + "/workflow-dispatch.json");
  // POST /v1/events says per event what the dispatcher will do with it.
  register_ingest_commands(*n->pipeline_, [d = n->dispatcher_.get()](const std::string& org, const std::string& type,
                                                                     const boost::json::object& payload,
                                                                     const std::string& correlation,
                                                                     std::uint32_t partition, std::uint64_t position,
                                                                     std::int64_t at) {
    return d->report(org, type, payload, correlation, partition, position, at);
  });
  n->dispatcher_->on_trigger_failed([](const std::string& org, const workflow::Dispatcher::TriggerOutcome& o) {
    log_fields(spdlog::level::warn, "workflow trigger failed: the event does not fit the workflow's input",
               {{"org_id", org}, {"workflow_id", o.workflow_id}, {"run_id", o.run_id}, {"error", o.error},
                {"pointer", o.pointer}});
  });
  // Before the first request is served, the dispatcher's start-up index (and
  // the log after it, or the whole log the first time) gives the trigger
  // index and the runs to resume (queued until the I/O threads run).
  if (auto st = n->dispatcher_->open(); !st) return std::move(st).error();
  n->billing_timers_ = std::make_unique<billing::Timers>(*n->pipeline_, *n->entitlements_,
                                                         n->server_->io().get_executor());
  // The same index names the organizations with subscription events, whose
  // deadlines (trial and grace ends, cancelled periods) the timers keep.
  if (!cfg.read_only) {
    auto recovered = workflow::recover_workflows(*n->log_, *n->executor_, *n->dispatcher_);
    if (!recovered) return std::move(recovered).error();
    log_fields(spdlog::level::info, "workflows recovered",
               {{"from_index", recovered->from_index ? "yes" : "no"},
                {"events_scanned", std::to_string(recovered->scanned)},
                {"workflows_read_back", std::to_string(recovered->read_back)}});
    n->recovery_ = *recovered;
    for (const auto& org : n->dispatcher_->startup_index().subscribed) n->billing_timers_->watch(org);
  }
  n->api_->set_workflows(n->executor_.get(), n->catalog_.get(), n->dispatcher_.get());
  n->executor_->on_tick([d = n->dispatcher_.get(), b = n->billing_timers_.get()] {
    d->tick();
    b->tick();
  });
  n->api_->set_billing(n->entitlements_.get(), n->billing_secret_);
  // Before serving: a fresh data folder's outbox starts at the head as it is now.
  mail::Outbox::Options mo;
  mo.from = cfg.mail_from;
  // Bound before the mail links are made: they name the port actually listened on.
  auto listening = n->server_->listen();
  if (!listening) return std::move(listening).error();
  mo.public_url = public_url_of(cfg, *listening);
  mo.checkpoint_path = cfg.data_dir + "/mail-outbox.json";
  // An invitation revoked, declined or accepted before its mail went out gets none.
  mo.invitation_pending = [pipe = n->pipeline_.get()](const std::string& org, const std::string& invitation,
                                                      std::uint64_t invited_at_version,
                                                      std::int64_t now_us) -> Result<bool> {
    auto loaded = pipe->aggregates().load<OrganizationAggregate>(org);
    if (!loaded) return std::move(loaded).error();
    // The cache may not have caught up with the invitation itself yet: nothing can have ended it then.
    if (loaded->version < invited_at_version) return true;
    return organization::is_pending(loaded->state, invitation, now_us);
  };
  mo.report = [](const char* what, const std::string& event_id, const std::string& error) {
    log_fields(spdlog::level::warn, what, {{"event_id", event_id}, {"error", error}});
  };
  std::unique_ptr<mail::Transport> transport =
      cfg.smtp_url.empty() ? mail::file_transport(cfg.data_dir + "/mail")
                           : mail::smtp_transport({cfg.smtp_url, cfg.smtp_username, cfg.smtp_password});
  n->outbox_ = std::make_unique<mail::Outbox>(*n->log_, *n->vault_, clock ? *clock : n->system_clock_,
                                              std::move(transport), std::move(mo));
  if (!cfg.read_only) n->outbox_->start();
  n->api_->set_mail_eraser([o = n->outbox_.get()](const std::string& user_id) { return o->forget(user_id); });
  n->api_->set_mail_counts([o = n->outbox_.get()] { return std::make_pair(o->sent(), o->given_up()); });
  auto port = n->server_->start();
  if (!port) return std::move(port).error();
  n->port_ = *port;
  if (!cfg.read_only) {
    n->dispatcher_->start();
    n->executor_->start();
  } else {
    log_fields(spdlog::level::warn, "read-only: every command is refused; no workflow actions, timers, triggers, "
                                    "mail, billing timers, retention sweeps or audit checkpoints run",
               {{"data_dir", cfg.data_dir}});
  }
  log_fields(spdlog::level::info, "serving",
             {{"address", cfg.listen_address}, {"port", n->port_}, {"position", n->log_->head().str()}});
  return n;
}

void Node::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (dispatcher_) dispatcher_->stop();
  if (executor_) executor_->stop();
  if (outbox_) outbox_->stop();
  if (server_) {
    server_->stop();
    server_->wait();
  }
  if (retention_) retention_->stop();
  if (cpu_) cpu_->join();
  if (views_) views_->stop();
  if (checkpointer_) checkpointer_->stop();
  if (rocks_) rocks_->close();  // a shared log is its owner's to close
  log_fields(spdlog::level::info, "stopped", {});
}

Node::~Node() { stop(); }

}  // namespace causeway
