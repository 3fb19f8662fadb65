// Api: the HTTP routes, as a pure function from request to response.
//
//   GET   /healthz                                  liveness + log head
//   POST  /v1/users                                 user.signup
//   POST  /v1/organizations                         organization.create
//   PATCH /v1/organizations/{org_id}                organization.rename (If-Match)
//   GET   /v1/admin/streams/{stream}/events         admin read of one stream
//   POST  /v1/admin/organizations/{org}/api-keys    api_key.create (token shown once)
//   DELETE /v1/admin/api-keys/{key}                 api_key.revoke
//   GET   /v1/views/{view}                          read a view (read_routes.cpp)
//   POST  /v1/query                                 analyst SQL over the views
//   GET   /v1/admin/projections                     projection status and lag
//   POST  /v1/admin/projections/rebuild             rebuild without downtime
//   POST  /v1/admin/backups                         online backup into a new folder (backup_route.cpp)
//   GET   /v1/audit/export                          signed, verifiable audit export (audit_routes.cpp)
//   GET   /v1/audit/public-key                      the key that signs audit checkpoints
//   POST  /v1/admin/subjects/{user}/erasure         GDPR erasure, refused under a legal hold (gdpr_routes.cpp)
//   POST|DELETE /v1/admin/subjects/{user}/holds     place or release a legal hold
//   GET   /v1/admin/subjects/{user}/export          subject access export (GDPR Art. 15)
//   POST  /v1/admin/dsr                             open a data subject request (due in 30 days)
//   POST  /v1/admin/dsr/{id}/extension|closure      extend it once, or close it
//   PUT|DELETE /v1/admin/retention-policies/{scope}/{category}  set or remove a retention policy
//                                                   (scope: "all" or an org id; retention_routes.cpp)
//   POST  /v1/admin/retention/sweeps                run a retention sweep now, and report it
//   POST  /v1/sessions, /v1/sessions/refresh        login, token rotation (session_routes.cpp)
//   POST  /v1/users/password                        change a password (history, revokes sessions)
//   GET|DELETE /v1/sessions, DELETE /v1/sessions/{id|current}  the caller's sessions
//   POST|DELETE /v1/me/totp, POST /v1/me/totp/confirmation      two-factor (me_routes.cpp)
//   /v1/workflows[...], /v1/runs/{id}[...]          workflows and runs (workflow_routes.cpp, docs/api.md)
//   POST  /v1/events                                ingest a batch of an organization's own events
//   GET   /v1/admin/metrics                         Prometheus text: workflow runs, triggers, projection lag
//   /v1/plans, /v1/organizations/{org}/subscription[...], .../flags[...],
//   /v1/admin/organizations/{org}/flags/{flag}, /v1/billing/webhooks
//                                                   plans, trials, payments, usage, flags (billing_routes.cpp)
//
// Callers are the operator (the admin token: every tenant) or an API key of
// one organization (its tenant and role); see Principal.
//
// Every command response carries its position token in the body ("position")
// and the Causeway-Position header. Every error is problem+json (problem.h).
// The session plumbing (timeouts, limits, keep-alive) is in server.h.
//
// Thread safety: handle() may run concurrently on any number of strands.
#pragma once

#include <atomic>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/url_view.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/config.h"
#include "events/cidr.h"
#include "api/problem.h"
#include "api/rate_limit.h"
#include "engine/audit/checkpointer.h"
#include "engine/billing/entitlements.h"
#include "engine/pipeline.h"
#include "engine/retention/sweeper.h"
#include "engine/workflow/dispatcher.h"
#include "engine/workflow/executor.h"
#include "projections/read_pool.h"
#include "projections/runtime.h"

namespace causeway {
class KeySnapshots;  // api/key_snapshots.h
}

namespace causeway::api {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

struct Credentials;  // account_support.h
struct LinkKind;     // link_routes.cpp

// Who calls a tenant route: the operator, an organization's API key, or a
// signed-in user acting in an organization they are a member of.
struct Principal {
  bool admin = false;
  std::string tenant;  // org id; empty for the operator
  std::string role;
  std::string key_id;        // the API key, when the caller used one
  std::string user_id;       // the signed-in user, when the caller used a session
  std::string impersonator;  // "admin" when that session is an impersonation
};

// A user's session, from its access token ("Bearer cwa_...").
struct SessionPrincipal {
  std::string user_id;
  std::string session_id;
  std::string impersonator;  // "admin" when the operator is acting as the user
};

// The actor recorded for what a principal does: "admin", the user (with the
// impersonating admin beside them), or the API key's id.
inline Actor actor_of(const Principal& p) {
  if (p.admin) return Actor{"admin", {}};
  if (!p.user_id.empty()) return Actor{p.user_id, p.impersonator};
  return Actor{p.key_id, {}};
}

// The position token a read must observe: ?position= or Causeway-Position
// (read_routes.cpp); nullopt when neither is given.
Result<std::optional<PositionToken>> requested_position(const Request& req, const boost::urls::url_view& url);

// The header naming the organization a session acts in (tenant routes).
inline constexpr const char* kOrganizationHeader = "Causeway-Organization";

class Api {
 public:
  // `admin_token` is kept only as a hash; presented tokens are hashed and
  // compared in constant time.
  Api(CommandPipeline& pipeline, EventLog& log, KeyVault& vault, const ServerConfig& cfg,
      const std::string& admin_token, ProjectionRuntime* views = nullptr);

  boost::asio::awaitable<Response> handle(Request req);
  // Enables the audit routes (set once at start-up, before serving).
  void set_audit(const audit::Signer* signer, audit::Checkpointer* checkpointer) {
    signer_ = signer;
    checkpointer_ = checkpointer;
  }
  // Called after KeyVault::forget() so no copy of the destroyed key survives on
  // disk (RocksEventLog::purge_keys); set once at start-up, before serving.
  void set_key_purger(std::function<Status()> purge) { purge_keys_ = std::move(purge); }
  // Where backups write their key snapshot (set once at start-up, before serving).
  void set_key_snapshots(KeySnapshots* snapshots) { key_snapshots_ = snapshots; }
  // Called with the user id after an erasure destroyed their key: removes the
  // copies the mail transport keeps (set once at start-up, before serving).
  void set_mail_eraser(std::function<Status(const std::string& user_id)> erase) { erase_mail_ = std::move(erase); }
  // Mail sent and given up, for the metrics (set once at start-up, before serving).
  void set_mail_counts(std::function<std::pair<std::uint64_t, std::uint64_t>()> counts) {
    mail_counts_ = std::move(counts);
  }
  // Enables POST /v1/admin/retention/sweeps (set once at start-up, before serving).
  void set_retention(retention::RetentionSweeper* sweeper) { retention_ = sweeper; }
  // Enables the workflow routes (set once at start-up, before serving).
  // Enables the subscription, flag and payment webhook routes (set once at
  // start-up, before serving); `webhook_secret` signs the provider's webhooks.
  void set_billing(billing::Entitlements* entitlements, std::string webhook_secret) {
    entitlements_ = entitlements;
    billing_secret_ = std::move(webhook_secret);
  }
  void set_workflows(workflow::Executor* executor, workflow::Catalog* catalog, workflow::Dispatcher* dispatcher) {
    executor_ = executor;
    catalog_ = catalog;
    dispatcher_ = dispatcher;
  }

 private:
  boost::asio::awaitable<Response> route(Request& req, const std::string& request_id, std::string& route_name);
  // Runs command `name` on the request's JSON body. With `who`, the command
  // acts for that principal's tenant (CommandContext::tenant) and actor.
  boost::asio::awaitable<Response> command(Request& req, const std::string& request_id, const std::string& name,
                                           std::string target, const Principal* who = nullptr);
  // workflow_routes.cpp: /v1/workflows[...], /v1/runs/{id}[...]
  boost::asio::awaitable<Response> workflow_route(Request& req, const std::string& request_id,
                                                  const std::vector<std::string>& seg, std::string& route_name);
  boost::asio::awaitable<Response> run_route(Request& req, const std::string& request_id,
                                             const std::vector<std::string>& seg, std::string& route_name);
  boost::asio::awaitable<Response> dry_run(Request& req, const std::string& request_id, const Principal& who,
                                           const std::string& workflow_id);
  Response stream_events(const Request& req, const std::string& request_id, const std::string& stream,
                         const boost::urls::url_view& url);
  bool is_admin(const Request& req) const;
  // A 404 for another organization's resource, marked so handle() records the
  // denial (a 403 is recorded without a mark); the mark never leaves the server.
  static Response tenant_denied(Response res);
  static constexpr const char* kDeniedHeader = "Causeway-Internal-Denied";
  // Sets `field` of the request's JSON object body to `value`, which the path
  // or the credentials give, not the caller: a body naming another value is
  // 422 at the field, with `why`. An empty body counts as {} when
  // `body_optional`. nullopt: done; else the problem to answer.
  std::optional<Response> set_body_field(Request& req, const std::string& request_id, const char* field,
                                         const std::string& value, const std::string& why, bool body_optional);
  // Records access.denied for an authenticated caller (engine/audit/export.h).
  boost::asio::awaitable<void> record_denied(const Request& req, const std::string& route_name, int status);
  // Reads of the audit log are recorded as events, except on a read-only
  // server (serve --read-only), which writes nothing to the copy it inspects:
  // there the read is served and written to the server's log instead (actor
  // and route, never the reason or filters), and this returns true. Returns
  // false where the caller must record the read in the log.
  bool audit_read_unrecorded(const Actor& actor, std::string_view via) const;
  // The caller, or Errc::unauthorized (no, malformed, unknown or revoked
  // credentials). A session's access token acts in the organization named by
  // the Causeway-Organization header, else `org` (the route's own, when it
  // has one), with the user's role there; Errc::forbidden when it names none
  // or one the user is not a member of.
  Result<Principal> authenticate(const Request& req, std::string_view org = {});

  // read_routes.cpp
  Response read_organization(const std::string& org, const std::string& instance, const std::string& request_id,
                             unsigned ver);
  // `org`: the organization the route names (a session acts in it), if any.
  boost::asio::awaitable<Response> read_view(Request& req, const std::string& request_id, const std::string& view,
                                             const boost::urls::url_view& url, std::string org = {});
  // key_routes.cpp: /v1/organizations/{org}/api-keys[/{key}]
  boost::asio::awaitable<Response> org_key_route(Request& req, const std::string& request_id,
                                                 const std::vector<std::string>& seg, std::string& route_name);
  boost::asio::awaitable<Response> analyst_sql(Request& req, const std::string& request_id);
  boost::asio::awaitable<Response> projections_route(Request& req, const std::string& request_id, bool rebuild);
  // audit_routes.cpp
  boost::asio::awaitable<Response> audit_export(Request& req, const std::string& request_id,
                                                const boost::urls::url_view& url);
  Response audit_public_key(const Request& req, const std::string& request_id);
  // gdpr_routes.cpp: /v1/admin/subjects/{user}/...
  boost::asio::awaitable<Response> gdpr_route(Request& req, const std::string& request_id,
                                              const std::vector<std::string>& seg, const boost::urls::url_view& url,
                                              std::string& route_name);
  // gdpr_routes.cpp: /v1/admin/dsr[/{id}/extension|closure]
  boost::asio::awaitable<Response> dsr_route(Request& req, const std::string& request_id,
                                             const std::vector<std::string>& seg, const boost::urls::url_view& url,
                                             std::string& route_name);
  boost::asio::awaitable<Response> subject_erasure(Request& req, const std::string& request_id,
                                                   const std::string& user_id);
  boost::asio::awaitable<Response> subject_export(Request& req, const std::string& request_id,
                                                  const std::string& user_id, const boost::urls::url_view& url);
  // A data subject request `action` ("erasure" or "export") on `user_id` may
  // fulfil, or why not; and its closure once fulfilled (gdpr_routes.cpp).
  Status check_request(const std::string& dsr_id, const std::string& user_id, const char* action);
  boost::asio::awaitable<Result<CommandOutcome>> close_request(const std::string& dsr_id, const char* why,
                                                               const std::string& request_id);
  boost::asio::awaitable<Result<CommandOutcome>> subject_command(const std::string& name, boost::json::value body,
                                                                 const std::string& user_id,
                                                                 const std::string& request_id);
  // session_routes.cpp: /v1/sessions[/refresh|/{id}|/current]
  boost::asio::awaitable<Response> session_route(Request& req, const std::string& request_id,
                                                 const std::vector<std::string>& seg, std::string& route_name);
  Result<SessionPrincipal> authenticate_session(const Request& req);
  // POST /v1/admin/impersonations {user_id, reason, minutes?} (session_routes.cpp)
  boost::asio::awaitable<Response> impersonate(Request& req, const std::string& request_id);
  // GET /v1/links/{kind}?token= (link_routes.cpp): what a mailed link is and how to use it;
  // POST: the page's form, which uses it.
  boost::asio::awaitable<Response> link_route(Request& req, const std::string& request_id,
                                              const std::vector<std::string>& seg, std::string& route_name);
  boost::asio::awaitable<Response> link_form_post(Request& req, const std::string& request_id, const LinkKind& kind);
  // POST /v1/users/password (session_routes.cpp): change a password, with the current one.
  boost::asio::awaitable<Response> password_route(Request& req, const std::string& request_id);
  // The account an email names for a password attempt (login, password
  // change), decided the same way for both so that neither tells which emails
  // have accounts: `user_id` empty and the dummy hash when there is none (or
  // its hash is unreadable); `locked_for_us` > 0 when attempts are locked
  // out — the account's lockout, or for an unknown email an in-memory one that
  // mirrors it. (session_routes.cpp)
  struct PasswordAccount {
    std::string user_id;
    std::string hash;
    std::shared_ptr<Credentials> creds;  // set when user_id is
    std::int64_t locked_for_us = 0;
  };
  Result<PasswordAccount> password_account(const std::string& email);
  // The password check of login and password change, one for both: a locked
  // account is 429; a wrong password, or no account, 401 and, for an account,
  // a failed login recorded. nullopt: the password is right, and `account`
  // holds the account.
  boost::asio::awaitable<std::optional<Response>> check_password(const Request& req, const std::string& request_id,
                                                                 const std::string& email,
                                                                 const std::string& password,
                                                                 PasswordAccount& account);
  // When `user_id` has two-factor on: checks and spends `factor` ({"otp"} or
  // {"backup_code"}), recording a failed login when it is wrong. nullopt: passed.
  boost::asio::awaitable<std::optional<Response>> second_factor(const Request& req, const std::string& request_id,
                                                                const std::string& user_id,
                                                                const boost::json::object& factor);
  // me_routes.cpp: /v1/me/totp[/confirmation]
  boost::asio::awaitable<Response> me_route(Request& req, const std::string& request_id,
                                            const std::vector<std::string>& seg, std::string& route_name);
  // The policy, the history (no reuse of the last user::kPasswordHistory) and
  // the argon2id hash of a new password (off the I/O threads); errors point at /new_password.
  boost::asio::awaitable<Result<std::string>> hash_new_password(const Credentials& creds, const std::string& email,
                                                                const std::string& fresh);
  struct Revoked {
    boost::json::array ids;
    PositionToken last;
  };
  // Revokes every live session of the user (after a password change or reset).
  boost::asio::awaitable<Result<Revoked>> revoke_sessions(const std::string& user_id, const std::string& request_id,
                                                          PositionToken last);
  Response password_changed(const std::string& user_id, const Revoked& revoked, unsigned ver);
  // account_routes.cpp: email verification, password reset, magic links.
  boost::asio::awaitable<Response> account_route(Request& req, const std::string& request_id,
                                                 const std::vector<std::string>& seg, std::string& route_name);
  // A link for a known address, asked for after the 202 is on its way, so that
  // a known address does not answer slower than an unknown one.
  boost::asio::awaitable<void> issue_link(std::string user_id, std::string purpose, std::string request_id);
  // The user's sessions, newest first, from the subject index (opened).
  Result<std::vector<boost::json::object>> sessions_of(const std::string& user_id);
  // retention_routes.cpp: /v1/admin/retention-policies/..., /v1/admin/retention/sweeps
  boost::asio::awaitable<Response> retention_route(Request& req, const std::string& request_id,
                                                   const std::vector<std::string>& seg, std::string& route_name);
  // inbox_routes.cpp: /v1/me/notifications[/read-all|/{id}/read]
  boost::asio::awaitable<Response> inbox_route(Request& req, const std::string& request_id,
                                               const std::vector<std::string>& seg, std::string& route_name);
  // member_routes.cpp: /v1/organizations/{org}/members|invitations|ownership-transfer[...],
  // /v1/invitations/acceptance|declination, /v1/me/organizations
  boost::asio::awaitable<Response> member_route(Request& req, const std::string& request_id,
                                                const std::vector<std::string>& seg, std::string& route_name);
  // billing_routes.cpp: /v1/plans, /v1/organizations/{org}/subscription[...],
  // /v1/organizations/{org}/flags[...], /v1/admin/organizations/{org}/flags/{flag},
  // /v1/billing/webhooks
  boost::asio::awaitable<Response> billing_route(Request& req, const std::string& request_id,
                                                 const std::vector<std::string>& seg, const boost::urls::url_view& url,
                                                 std::string& route_name);
  // GET /v1/admin/metrics (routes.cpp)
  Response metrics(const Request& req, const std::string& request_id);
  // backup_route.cpp
  boost::asio::awaitable<Response> backup_route(Request& req, const std::string& request_id);
  // Waits (bounded) until `projection` has applied `token`; an error to return otherwise.
  boost::asio::awaitable<Status> wait_applied(const std::string& projection, const PositionToken& token);

  CommandPipeline& pipeline_;
  EventLog& log_;
  KeyVault& vault_;
  const ServerConfig& cfg_;
  std::array<unsigned char, 32> admin_hash_{};
  ProjectionRuntime* views_;
  PositionToken startup_head_;  // the log's head when this Api was made: /readyz waits for the views to reach it
  std::unique_ptr<ReadPool> reads_;
  const audit::Signer* signer_ = nullptr;
  audit::Checkpointer* checkpointer_ = nullptr;
  std::function<Status()> purge_keys_;
  KeySnapshots* key_snapshots_ = nullptr;
  std::function<Status(const std::string&)> erase_mail_;
  std::function<std::pair<std::uint64_t, std::uint64_t>()> mail_counts_;
  retention::RetentionSweeper* retention_ = nullptr;
  workflow::Executor* executor_ = nullptr;
  workflow::Catalog* catalog_ = nullptr;
  workflow::Dispatcher* dispatcher_ = nullptr;
  billing::Entitlements* entitlements_ = nullptr;
  std::string billing_secret_;
  std::unique_ptr<RateLimiter> login_limit_;          // per peer address: login and refresh attempts
  std::unique_ptr<RateLimiter> unknown_email_limit_;  // per unknown email: mirrors the account lockout
  // Per email and purpose: verification, reset and sign-in links asked for.
  static constexpr std::size_t kLinksPerAccountPerHour = 5;
  std::unique_ptr<RateLimiter> account_link_limit_;
  // Invitations (each sends a mail), per organization and per inviter.
  static constexpr std::size_t kInvitationsPerHour = 50;
  std::unique_ptr<RateLimiter> invite_limit_;
  CidrList admin_allow_;  // parsed from cfg.admin_allow (Node::open refuses a bad list)
  // Access denials recorded as events (access.denied), per actor and minute;
  // the rest are counted (GET /v1/admin/metrics).
  static constexpr std::size_t kDenialsRecordedPerMinute = 30;
  std::unique_ptr<RateLimiter> denied_limit_;
  std::atomic<std::uint64_t> denied_unrecorded_{0};
};

}  // namespace causeway::api
