// CommandPipeline: from a request body to durable events and a reply.
//
//   validate (schemas/) -> authorize (hook) -> prepare (CPU pool: e.g. argon2id)
//   -> load state -> decide (pure) -> seal personal fields -> one atomic append
//   -> reply with the position token
//
// A command is acknowledged (execute() completes with a value) only after its
// commit is durable. On an optimistic-concurrency conflict the pipeline decides
// again on fresh state, unless the caller pinned the version (If-Match), in which
// case the conflict is returned (409) and nothing is written. Idempotency keys are
// scoped to the tenant and actor; a repeat returns the original reply.
//
// Threading: execute() may run concurrently on any executor; CPU-heavy preparation
// runs on the `cpu` executor and the coroutine resumes on its own executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "engine/aggregate_store.h"
#include "engine/decision.h"
#include "engine/password.h"
#include "engine/schema_registry.h"
#include "events/clock.h"
#include "events/event_log.h"
#include "events/key_vault.h"

namespace causeway {

struct CommandContext {
  Actor actor{"anonymous", {}};
  std::string tenant;
  std::string target;                            // route parameter, e.g. an org id
  std::string idempotency_key;
  std::optional<std::uint64_t> expected_version;  // from If-Match
  std::string request_id;
  std::string correlation_id;
  std::string traceparent;
  bool api_call = false;  // a tenant's own API request: metered as an API call
};

struct CommandOutcome {
  int status = 201;
  std::string body;  // JSON text; always has "position"
  PositionToken token;
  bool replayed = false;
};

// What a command handler plans: the aggregate it changes and the decision.
struct Plan {
  std::string stream;
  std::string tenant;
  std::uint64_t expected = 0;  // stream version decided against
  Decision decision;
  AggregateRecord record;      // state after the decision
  boost::json::object reply;   // reply body, "position" is added
  int status = 201;
  std::vector<CounterAdd> counters;  // metered in the same commit (events/event_log.h)
  // Called once this plan's commit is durable, with the stream's new version
  // (not on a replay, a conflict or a failure): e.g. to warm a cache with what
  // the decision derived, knowing it is now the stream's truth.
  std::function<void(std::uint64_t stream_version)> on_committed;
  // Completes the reply once the commit's positions are known (e.g. a report
  // per event), before it is stored for Idempotency-Key replays. Called once,
  // on the writer's path: keep it cheap and free of I/O.
  std::function<void(boost::json::object& reply, const Committed& done)> finish_reply;
};

class CommandPipeline;

struct CommandHandler {
  // Optional CPU-heavy step run off the I/O threads; may rewrite the body.
  std::function<Status(boost::json::object& body, CommandPipeline& p)> prepare;
  std::function<Result<Plan>(const boost::json::object& body, const CommandContext& ctx, std::int64_t now_us,
                             CommandPipeline& p)>
      plan;
};

class CommandPipeline {
 public:
  struct Options {
    std::size_t state_cache = 100'000;
    int max_attempts = 32;  // re-decides after a stream-version conflict
    PasswordParams password;
    std::int64_t access_ttl_us = 15LL * 60 * 1'000'000;          // session access tokens
    std::int64_t refresh_ttl_us = 30LL * 86'400 * 1'000'000;     // session refresh tokens
  };
  using Authorizer =
      std::function<Status(const CommandContext&, const std::string& command, const boost::json::value& body)>;

  CommandPipeline(EventLog& log, KeyVault& vault, const SchemaRegistry& schemas, const Upcaster& upcaster,
                  const Clock& clock, boost::asio::any_io_executor cpu, Options opts);

  void add_command(const std::string& name, CommandHandler h);
  void set_authorizer(Authorizer a) { authorize_ = std::move(a); }
  // Entitlements (engine/billing/entitlements.h): called with every plan that
  // writes events, before its commit is built; may refuse it (e.g. a suspended
  // tenant, a feature its plan lacks) or add counters to `plan.counters`.
  using Meter = std::function<Status(const CommandContext&, const std::string& command, Plan& plan,
                                     std::int64_t now_us)>;
  void set_meter(Meter m) { meter_ = std::move(m); }
  // A read-only node (serve --read-only, for inspecting a restored copy)
  // records nothing: every command is refused with Errc::unavailable (503).
  void set_read_only(bool on) { read_only_ = on; }
  bool read_only() const { return read_only_; }

  // Never throws; every failure is an Error (codes map to HTTP statuses in api/).
  boost::asio::awaitable<Result<CommandOutcome>> execute(std::string command, boost::json::value body,
                                                         CommandContext ctx);

  EventLog& log() { return log_; }
  KeyVault& vault() { return vault_; }
  AggregateStore& aggregates() { return aggregates_; }
  const Options& options() const { return opts_; }
  boost::asio::any_io_executor cpu() const { return cpu_; }
  const Clock& clock() const { return clock_; }
  const SchemaRegistry& schemas() const { return schemas_; }  // for CPU-heavy work off the I/O threads

 private:
  Result<Commit> build_commit(Plan& plan, const CommandContext& ctx, const std::string& command,
                              const std::string& fingerprint, std::int64_t now_us);

  EventLog& log_;
  KeyVault& vault_;
  const SchemaRegistry& schemas_;
  const Clock& clock_;
  boost::asio::any_io_executor cpu_;
  Options opts_;
  AggregateStore aggregates_;
  Authorizer authorize_;
  Meter meter_;
  bool read_only_ = false;
  std::map<std::string, CommandHandler> handlers_;
};

// Registers the product's commands (engine/commands/).
void register_user_commands(CommandPipeline& p);
void register_organization_commands(CommandPipeline& p);
// notification.mark_read, notification.mark_all_read (the target is the user id).
void register_inbox_commands(CommandPipeline& p);
void register_api_key_commands(CommandPipeline& p);
// subject.place_hold, subject.release_hold, subject.erase, subject.complete_erasure,
// subject.export (the target is the user id; see engine/aggregates/subject.h).
// dsr.open (the target is empty), dsr.extend, dsr.close (the target is the request id).
void register_subject_commands(CommandPipeline& p);
// retention.set_policy, retention.remove_policy (the target is the scope: "all"
// or an organization id; the category is in the body's "category", set by the
// route from the path), retention.enforce (the retention sweeper only).
void register_retention_commands(CommandPipeline& p);
// session.start (target: the user id, after the password was checked),
// session.refresh, session.revoke (target: the session id) and
// user.record_login_failure (target: the user id); engine/aggregates/session.h.
void register_session_commands(CommandPipeline& p);
// user.totp_enroll, user.totp_confirm, user.second_factor, user.totp_disable
// (target: the user id; engine/aggregates/user.h, engine/totp.h).
void register_totp_commands(CommandPipeline& p);
// workflow.create, workflow.update_draft, workflow.publish, workflow.archive,
// workflow.share (engine/aggregates/workflow.h).
void register_workflow_commands(CommandPipeline& p);
namespace workflow {
class Catalog;
}
// run.start, run.advance, run.cancel, run.restart, run.mark_stuck (target: the
// run id; engine/aggregates/run.h, engine/workflow/interpreter.h).
void register_run_commands(CommandPipeline& p, workflow::Catalog& catalog);
// event.ingest (target: the organization id; engine/commands/ingest_commands.cpp).
// `report`, when set, describes what an accepted event does once it has its
// place in the log (the workflows it starts or fails to start, the runs
// waiting for it): workflow::Dispatcher::report. Its result is the event's
// entry in the reply.
using IngestReport = std::function<boost::json::object(const std::string& org_id, const std::string& event_type,
                                                       const boost::json::object& payload,
                                                       const std::string& correlation, std::uint32_t partition,
                                                       std::uint64_t position, std::int64_t occurred_at_us)>;
void register_ingest_commands(CommandPipeline& p, IngestReport report = {});
namespace billing {
class Plans;
}
// subscription.start_trial, subscription.change_plan, subscription.cancel,
// subscription.reactivate, subscription.tick, subscription.override_flag
// (target: the organization id) and subscription.record_payment (the
// organization is the body's "organization_id"); engine/aggregates/subscription.h.
// `changed` is called with the organization after each durable commit (the
// billing timers re-read its next deadline).
void register_subscription_commands(CommandPipeline& p, const billing::Plans& plans,
                                    std::function<void(const std::string& org_id)> changed = {});
// A user's referral code, "ref_<12 hex>": derived from the user id with a
// server key, reserved ("referral:<code>") at signup so it resolves to them.
std::string referral_code_of(const KeyVault& vault, const std::string& user_id);
// Hex BLAKE2b-256 of an API key secret: what the log stores instead of it.
std::string api_key_secret_hash(std::string_view secret);

}  // namespace causeway
