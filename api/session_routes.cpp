// Sessions (engine/aggregates/session.h): login, refresh with rotation, the
// user's own session list, revocation and logout.
//
//   POST   /v1/sessions            {email, password} -> 201 tokens (shown once)
//   POST   /v1/sessions/refresh    {refresh_token}   -> 200 rotated tokens; a reused
//                                                       token revokes the session (401)
//   GET    /v1/sessions            the caller's sessions (access token)
//   DELETE /v1/sessions/current    logout
//   DELETE /v1/sessions/{id}       revoke one of the caller's sessions
//   DELETE /v1/sessions            revoke every session of the caller
//
// Login answers the same 401 for an unknown email and a wrong password, after
// the same argon2id work, and the same 429 once either is locked. Failed logins of existing users are events
// (user.login_failed); five within 15 minutes lock the account (429 with
// Retry-After). Per peer address, at most cfg.login_attempts_per_ip_per_minute
// login and refresh attempts a minute (429 with Retry-After).
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <algorithm>
#include <map>

#include "api/account_support.h"
#include "api/json_body.h"
#include "api/log.h"
#include "api/routes.h"
#include "engine/async.h"
#include "engine/audit/export.h"
#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "engine/password.h"
#include "engine/password_policy.h"
#include "events/codec.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;


namespace {
// The fields of the login and password-change bodies (named arrays: see account_routes.cpp).
constexpr const char* kLogin[] = {"email", "password"};
constexpr const char* kPasswordChange[] = {"email", "current_password", "new_password"};
}  // namespace

Result<SessionPrincipal> Api::authenticate_session(const Request& req) {
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return Error::unauthorized("a bearer access token is required");
  std::string_view v = it->value();
  // "Bearer cwa_<32 hex>_<64 hex>"
  if (v.size() != 7 + 4 + 32 + 1 + 64 || v.substr(0, 7) != "Bearer " || v.substr(7, 4) != "cwa_" || v[43] != '_')
    return Error::unauthorized("the access token is not valid");
  const std::string session_id = "session-" + std::string(v.substr(11, 32));
  auto loaded = pipeline_.aggregates().load<SessionAggregate>(session_id);
  if (!loaded) return std::move(loaded).error();
  const auto& s = loaded->state;
  const std::string presented = blake2b_hex(v.substr(44));
  // Compared even for unknown sessions, so timing does not tell which exist.
  const bool match = session::same_hash(s.exists ? s.access_hash : std::string(presented.size(), 'x'), presented);
  if (!s.exists || s.revoked || !match || pipeline_.clock().now_us() >= s.access_expires_at_us)
    return Error::unauthorized("the access token is not valid (expired, revoked or unknown)");
  return SessionPrincipal{s.user_id, session_id, s.impersonator};
}

awaitable<Response> Api::session_route(Request& req, const std::string& request_id,
                                       const std::vector<std::string>& seg, std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  const auto method = req.method();
  auto not_allowed = [&](const char* allow) { return method_not_allowed(allow, instance, request_id, ver); };
  auto body_of = [&](json::value& out) -> std::optional<Response> {
    auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
    if (auto* err = std::get_if<BodyError>(&parsed)) return problem(err->status, err->detail, "", instance, request_id, ver);
    out = std::move(std::get<json::value>(parsed));
    return std::nullopt;
  };
  auto run = [&](const std::string& name, json::value body, const std::string& target) {
    CommandContext ctx;
    ctx.request_id = request_id;
    ctx.target = target;
    return pipeline_.execute(name, std::move(body), std::move(ctx));
  };
  auto reply = [&](const CommandOutcome& out) {
    Response res = json_response(static_cast<http::status>(out.status), out.body, ver);
    res.set("Causeway-Position", out.token.str());
    return res;
  };
  const bool token_route = seg.size() == 2 || (seg.size() == 3 && seg[2] == "refresh");
  if (token_route && method == http::verb::post) {
    // Tokens are shown once: a stored idempotent reply would keep them.
    if (req.find("Idempotency-Key") != req.end())
      co_return problem(400, "this route takes no Idempotency-Key: its tokens are shown once and never stored", "",
                        instance, request_id, ver);
    if (auto wait = login_limit_->acquire(peer_of(req)))
      co_return too_many("too many login attempts from this address", wait, instance, request_id, ver);
  }

  if (seg.size() == 2 && method == http::verb::post) {
    route_name = "sessions.login";
    json::value body;
    if (auto bad = body_of(body)) co_return std::move(*bad);
    auto fields = string_fields(body, kLogin, true);
    if (!fields) co_return problem(fields.error(), instance, request_id, ver);
    const std::string email = fields->text["email"], password = fields->text["password"];
    const json::object& factor = fields->factor;  // the second factor, when two-factor is on

    PasswordAccount account;
    if (auto refused = co_await check_password(req, request_id, email, password, account)) co_return std::move(*refused);
    const std::string user_id = account.user_id;
    // Two-factor: the password alone is not enough. A wrong code counts as a failed login.
    if (auto refused = co_await second_factor(req, request_id, user_id, factor)) co_return std::move(*refused);
    if (cfg_.password_max_age_days > 0) {
      auto account = pipeline_.aggregates().load<UserAggregate>(user_id);
      if (!account) co_return problem(account.error(), instance, request_id, ver);
      if (pipeline_.clock().now_us() - account->state.password_changed_at_us >
          cfg_.password_max_age_days * 86'400'000'000LL)
        co_return problem(403, "the password has expired: change it with POST /v1/users/password", "", instance,
                          request_id, ver);
    }
    json::value start = json::object{{"user_agent", user_agent_of(req)}, {"ip", peer_of(req)}};
    const std::string name = "session.start";
    auto out = co_await run(name, std::move(start), user_id);
    if (!out) co_return problem(out.error(), instance, request_id, ver);
    co_return reply(*out);
  }
  if (seg.size() == 3 && seg[2] == "refresh") {
    route_name = "sessions.refresh";
    if (method != http::verb::post) co_return not_allowed("POST");
    json::value body;
    if (auto bad = body_of(body)) co_return std::move(*bad);
    const std::string name = "session.refresh";
    auto out = co_await run(name, std::move(body), std::string());
    if (!out) {
      if (out.error().code == Errc::invalid && out.error().pointer == "/refresh_token")
        co_return problem(401, "the refresh token is not valid", "", instance, request_id, ver);
      co_return problem(out.error(), instance, request_id, ver);
    }
    if (out->status == 401) {
      log_fields(spdlog::level::warn, "refresh token reused: session revoked", {{"request_id", request_id}});
      co_return problem(401, "this refresh token was already used: the session is revoked, log in again", "",
                        instance, request_id, ver);
    }
    co_return reply(*out);
  }

  // The caller's own sessions.
  auto who = authenticate_session(req);
  if (seg.size() == 2) {
    route_name = "sessions.list";
    if (method != http::verb::get && method != http::verb::delete_) co_return not_allowed("GET, POST, DELETE");
  } else {
    route_name = "sessions.revoke";
    if (seg.size() != 3) co_return problem(404, "no such route", "", instance, request_id, ver);
    if (method != http::verb::delete_) co_return not_allowed("DELETE");
  }
  if (!who) co_return problem(who.error(), instance, request_id, ver);
  auto sessions = co_await run_on(pipeline_.cpu(), [&]() { return sessions_of(who->user_id); });
  if (!sessions) co_return problem(sessions.error(), instance, request_id, ver);

  if (seg.size() == 2 && method == http::verb::get) {
    json::array list;
    for (auto& s : *sessions) {
      s["current"] = s.at("session_id").as_string() == who->session_id;
      list.push_back(std::move(s));
    }
    co_return json_response(http::status::ok,
                            json::serialize(json::object{{"user_id", who->user_id}, {"sessions", std::move(list)}}),
                            ver);
  }
  std::vector<std::string> targets;
  // An impersonation ends itself; it does not sign the user out elsewhere.
  if (!who->impersonator.empty() && (seg.size() == 2 || (seg[2] != "current" && seg[2] != who->session_id)))
    co_return problem(403, "an impersonation session revokes only itself (DELETE /v1/sessions/current)", "",
                      instance, request_id, ver);
  if (seg.size() == 2) {
    for (const auto& s : *sessions)
      if (!s.at("revoked").as_bool()) targets.emplace_back(s.at("session_id").as_string());
  } else {
    const std::string id = seg[2] == "current" ? who->session_id : seg[2];
    const bool mine = std::any_of(sessions->begin(), sessions->end(),
                                  [&](const json::object& s) { return s.at("session_id").as_string() == id; });
    if (!mine) co_return problem(404, "no such session", "", instance, request_id, ver);
    targets.push_back(id);
  }
  PositionToken last = log_.head();
  for (const auto& id : targets) {
    json::value body = json::object{{"reason", id == who->session_id ? "logout" : "revoked"}};
    const std::string name = "session.revoke";
    auto out = co_await run(name, std::move(body), id);
    if (!out) co_return problem(out.error(), instance, request_id, ver);
    last = out->token;
  }
  json::array revoked(targets.begin(), targets.end());
  auto res = json_response(http::status::ok,
                           json::serialize(json::object{{"revoked", std::move(revoked)}, {"position", last.str()}}), ver);
  res.set("Causeway-Position", last.str());
  co_return res;
}

awaitable<Response> Api::impersonate(Request& req, const std::string& request_id) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  if (req.method() != http::verb::post) co_return method_not_allowed("POST", instance, request_id, ver);
  if (!is_admin(req)) co_return problem(401, "an admin bearer token is required", "", instance, request_id, ver);
  if (req.find("Idempotency-Key") != req.end())
    co_return problem(400, "this route takes no Idempotency-Key: its token is shown once and never stored", "",
                      instance, request_id, ver);
  auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
  if (auto* err = std::get_if<BodyError>(&parsed)) co_return problem(err->status, err->detail, "", instance, request_id, ver);
  auto* body = &std::get<json::value>(parsed).as_object();  // parse_json_body admits objects only
  const auto* user = body->if_contains("user_id");
  if (!user || !user->is_string() || !is_id(user->as_string(), "user"))
    co_return problem(Error::invalid("user_id must be a user id (user-<32 hex>)", "/user_id"), instance, request_id,
                      ver);
  const std::string user_id(user->as_string());
  body->erase("user_id");
  if (!body->contains("minutes")) (*body)["minutes"] = 30;
  // Given by the server, not the caller: the operator's device.
  if (body->contains("user_agent") || body->contains("ip"))
    co_return problem(Error::invalid("unknown field", body->contains("ip") ? "/ip" : "/user_agent"), instance,
                      request_id, ver);
  (*body)["user_agent"] = user_agent_of(req);
  (*body)["ip"] = peer_of(req);
  CommandContext ctx;
  ctx.actor = Actor{"admin", {}};
  ctx.request_id = request_id;
  ctx.target = user_id;
  const std::string name = "session.impersonate";
  auto out = co_await pipeline_.execute(name, std::move(std::get<json::value>(parsed)), std::move(ctx));
  if (!out) co_return problem(out.error(), instance, request_id, ver);
  Response res = json_response(static_cast<http::status>(out->status), std::move(out->body), ver);
  res.set("Causeway-Position", out->token.str());
  co_return res;
}

awaitable<std::optional<Response>> Api::second_factor(const Request& req, const std::string& request_id,
                                                      const std::string& user_id, const json::object& factor) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  auto account = pipeline_.aggregates().load<UserAggregate>(user_id);
  if (!account) co_return problem(account.error(), instance, request_id, ver);
  if (!account->state.totp_enabled) co_return std::nullopt;
  if (factor.empty())
    co_return problem(401, "a one-time code is required: give otp (from the authenticator app) or backup_code", "",
                      instance, request_id, ver);
  CommandContext ctx;
  ctx.request_id = request_id;
  ctx.target = user_id;
  const std::string check = "user.second_factor";
  json::value spend(factor);  // named: GCC 12 mishandles temporaries inside co_await expressions
  auto used = co_await pipeline_.execute(check, std::move(spend), ctx);
  if (used) co_return std::nullopt;
  if (used.error().code != Errc::unauthorized && used.error().code != Errc::invalid)
    co_return problem(used.error(), instance, request_id, ver);
  const std::string failure = "user.record_login_failure";
  json::value where = json::object{{"ip", peer_of(req)}};
  auto recorded = co_await pipeline_.execute(failure, std::move(where), ctx);
  if (!recorded) co_return problem(recorded.error(), instance, request_id, ver);
  co_return problem(401, "the one-time code is wrong or was already used", "", instance, request_id, ver);
}

Result<Api::PasswordAccount> Api::password_account(const std::string& email) {
  PasswordAccount out;
  out.hash = dummy_hash(pipeline_.options().password);
  const std::string email_index = vault_.blind_index("email", user::normalize_email(email));
  auto owner = log_.reservation_owner("email:" + email_index);
  if (!owner) return std::move(owner).error();
  if (!owner->has_value()) {
    out.locked_for_us = unknown_email_limit_->acquire(email_index);
    return out;
  }
  const std::string user_id = **owner;
  auto u = pipeline_.aggregates().load<UserAggregate>(user_id);
  if (!u) return std::move(u).error();
  const std::int64_t now = pipeline_.clock().now_us();
  if (auto until = user::locked_until(u->state, now)) {
    out.locked_for_us = until - now;
    return out;
  }
  auto creds = credentials_of(log_, vault_, user_id);
  if (!creds) return std::move(creds).error();
  // No readable hash ("[erased]" or "[expired]"): nothing verifies.
  if (creds->hashes.empty()) return out;
  out.user_id = user_id;
  out.hash = creds->hashes.front();
  out.creds = std::make_shared<Credentials>(std::move(creds).value());
  return out;
}

awaitable<std::optional<Response>> Api::check_password(const Request& req, const std::string& request_id,
                                                      const std::string& email, const std::string& password,
                                                      PasswordAccount& account) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  auto found = password_account(email);
  if (!found) co_return problem(found.error(), instance, request_id, ver);
  account = std::move(found).value();
  if (account.locked_for_us)
    co_return too_many("too many failed logins: the account is locked for a while", account.locked_for_us, instance,
                       request_id, ver);
  // Off the I/O threads: argon2id is slow by design. Captures by reference (GCC 12).
  const std::string& hash = account.hash;
  const bool ok = co_await run_on(pipeline_.cpu(), [&]() { return verify_password(hash, password); });
  if (ok && !account.user_id.empty()) co_return std::nullopt;
  if (!account.user_id.empty()) {
    CommandContext ctx;
    ctx.request_id = request_id;
    ctx.target = account.user_id;
    const std::string name = "user.record_login_failure";
    json::value where = json::object{{"ip", peer_of(req)}};
    auto recorded = co_await pipeline_.execute(name, std::move(where), std::move(ctx));
    if (!recorded) co_return problem(recorded.error(), instance, request_id, ver);
  }
  co_return problem(401, "the email or password is wrong", "", instance, request_id, ver);
}

awaitable<Response> Api::password_route(Request& req, const std::string& request_id) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  if (auto wait = login_limit_->acquire(peer_of(req)))
    co_return too_many("too many login attempts from this address", wait, instance, request_id, ver);
  auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
  if (auto* err = std::get_if<BodyError>(&parsed)) co_return problem(err->status, err->detail, "", instance, request_id, ver);
  auto fields = string_fields(std::get<json::value>(parsed), kPasswordChange, true);
  if (!fields) co_return problem(fields.error(), instance, request_id, ver);
  auto& f = fields->text;
  const json::object& factor = fields->factor;
  const std::string& fresh = f["new_password"];
  if (fresh.size() < 12 || fresh.size() > 256)
    co_return problem(Error::invalid("new_password must be 12 to 256 characters", "/new_password"), instance,
                      request_id, ver);

  const std::string email = user::normalize_email(f["email"]);
  PasswordAccount account;
  if (auto refused = co_await check_password(req, request_id, email, f["current_password"], account))
    co_return std::move(*refused);
  const std::string user_id = account.user_id;
  if (auto refused = co_await second_factor(req, request_id, user_id, factor)) co_return std::move(*refused);

  auto hashed = co_await hash_new_password(*account.creds, email, fresh);
  if (!hashed) co_return problem(hashed.error(), instance, request_id, ver);

  CommandContext ctx;
  ctx.actor = Actor{user_id, {}};
  ctx.request_id = request_id;
  ctx.target = user_id;
  const std::string change = "user.change_password";
  json::value next = json::object{{"password_hash", *hashed}};
  auto out = co_await pipeline_.execute(change, std::move(next), ctx);
  if (!out) co_return problem(out.error(), instance, request_id, ver);
  // Every session ends: whoever knew the old password is logged out.
  auto revoked = co_await revoke_sessions(user_id, request_id, out->token);
  if (!revoked) co_return problem(revoked.error(), instance, request_id, ver);
  co_return password_changed(user_id, *revoked, ver);
}

awaitable<Result<std::string>> Api::hash_new_password(const Credentials& creds, const std::string& email,
                                                      const std::string& fresh) {
  // The policy, then the history (argon2id against each of the last ones), then the hash.
  if (auto st = check_password_policy(fresh, email, creds.display_name); !st)
    co_return Error::invalid(st.error().message, "/new_password");
  const bool reused = co_await run_on(pipeline_.cpu(), [&]() {
    for (std::size_t i = 0; i < creds.hashes.size() && i < user::kPasswordHistory; ++i)
      if (verify_password(creds.hashes[i], fresh)) return true;
    return false;
  });
  if (reused)
    co_return Error::invalid(fmt::format("password rule \"history\": choose a password different from your last {}",
                                         user::kPasswordHistory),
                             "/new_password");
  co_return co_await run_on(pipeline_.cpu(), [&]() { return hash_password(fresh, pipeline_.options().password); });
}

awaitable<Result<Api::Revoked>> Api::revoke_sessions(const std::string& user_id, const std::string& request_id,
                                                     PositionToken last) {
  auto sessions = co_await run_on(pipeline_.cpu(), [&]() { return sessions_of(user_id); });
  if (!sessions) co_return std::move(sessions).error();
  Revoked out;
  for (const auto& s : *sessions) {
    if (s.at("revoked").as_bool()) continue;
    CommandContext rc;
    rc.request_id = request_id;
    rc.target = std::string(s.at("session_id").as_string());
    const std::string revoke = "session.revoke";
    json::value why = json::object{{"reason", "revoked"}};
    auto r = co_await pipeline_.execute(revoke, std::move(why), rc);
    if (!r) co_return std::move(r).error();
    out.ids.push_back(s.at("session_id"));
    last = r->token;
  }
  out.last = last;
  co_return out;
}

Response Api::password_changed(const std::string& user_id, const Revoked& revoked, unsigned ver) {
  json::object body{{"user_id", user_id}, {"password_changed", true}, {"revoked_sessions", revoked.ids},
                    {"position", revoked.last.str()}};
  auto res = json_response(http::status::ok, json::serialize(body), ver);
  res.set("Causeway-Position", revoked.last.str());
  return res;
}

Result<std::vector<json::object>> Api::sessions_of(const std::string& user_id) {
  // The subject index holds every session event of the user: strongly consistent, no view lag.
  auto about = audit::events_about(log_, user_id);
  if (!about) return std::move(about).error();
  std::map<std::string, json::object> by_id;
  std::vector<std::string> order;
  for (const Event& e : *about) {
    if (!e.type.starts_with("session.")) continue;
    boost::system::error_code ec;
    auto data = json::parse(e.data, ec);
    if (ec || !data.is_object()) return Error::corruption("a session event payload is not a JSON object");
    if (auto st = vault_.open_all(data); !st) return std::move(st).error();
    auto& d = data.as_object();
    const std::string id(d.at("session_id").as_string());
    auto& s = by_id[id];
    if (e.type == "session.started") {
      order.push_back(id);
      s = json::object{{"session_id", id},
                       {"started_at", rfc3339_us(e.occurred_at_us)},
                       {"last_refreshed_at", nullptr},
                       {"user_agent", d.at("user_agent")},
                       {"ip", d.at("ip")},
                       {"access_expires_at", rfc3339_us(d.at("access_expires_at_us").to_number<std::int64_t>())},
                       {"refresh_expires_at", rfc3339_us(d.at("refresh_expires_at_us").to_number<std::int64_t>())},
                       {"revoked", false}};
      if (auto* m = d.if_contains("method")) s["method"] = *m;
      if (auto* by = d.if_contains("impersonator")) {
        s["impersonator"] = *by;
        s["reason"] = d.at("reason");
      }
    } else if (e.type == "session.refreshed") {
      s["last_refreshed_at"] = rfc3339_us(e.occurred_at_us);
      s["access_expires_at"] = rfc3339_us(d.at("access_expires_at_us").to_number<std::int64_t>());
      s["refresh_expires_at"] = rfc3339_us(d.at("refresh_expires_at_us").to_number<std::int64_t>());
    } else if (e.type == "session.revoked") {
      s["revoked"] = true;
      s["revoked_at"] = rfc3339_us(e.occurred_at_us);
      s["revoke_reason"] = d.at("reason");
    }
  }
  std::vector<json::object> out;
  for (auto it = order.rbegin(); it != order.rend(); ++it) out.push_back(std::move(by_id[*it]));  // newest first
  return out;
}

}  // namespace causeway::api
