#include "api/routes.h"

#include <sodium.h>

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <cctype>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <chrono>
#include <charconv>
#include <fmt/format.h>

#include "api/json_body.h"
#include "api/log.h"
#include "api/openapi.h"
#include "projections/readiness.h"
#include "engine/async.h"
#include "engine/audit/export.h"
#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "events/codec.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

namespace {

bool token_chars(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string request_id_of(const Request& req) {
  auto it = req.find("X-Request-Id");
  if (it != req.end()) {
    std::string_view v = it->value();
    if (v.size() <= 64 && !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        }))
      return std::string(v);
  }
  unsigned char b[12];
  randombytes_buf(b, sizeof b);
  char out[25];
  sodium_bin2hex(out, sizeof out, b, sizeof b);
  return std::string(out, 24);
}

std::array<unsigned char, 32> hash_token(std::string_view t) {
  std::array<unsigned char, 32> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(t.data()), t.size(), nullptr, 0);
  return h;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Api::Api(CommandPipeline& pipeline, EventLog& log, KeyVault& vault, const ServerConfig& cfg,
         const std::string& admin_token, ProjectionRuntime* views)
    : pipeline_(pipeline),
      log_(log),
      vault_(vault),
      cfg_(cfg),
      admin_hash_(hash_token(admin_token)),
      views_(views),
      startup_head_(log.head()),
      reads_(views ? std::make_unique<ReadPool>(cfg.data_dir) : nullptr),
      login_limit_(std::make_unique<RateLimiter>(pipeline.clock(), cfg.login_attempts_per_ip_per_minute,
                                                 60LL * 1'000'000)),
      unknown_email_limit_(std::make_unique<RateLimiter>(pipeline.clock(), user::kLockoutFailures,
                                                         user::kLockoutWindowUs)),
      account_link_limit_(std::make_unique<RateLimiter>(pipeline.clock(), kLinksPerAccountPerHour,
                                                        3600LL * 1'000'000)),
      invite_limit_(std::make_unique<RateLimiter>(pipeline.clock(), kInvitationsPerHour, 3600LL * 1'000'000)),
      admin_allow_(CidrList::parse_or_deny(cfg.admin_allow)),
      denied_limit_(std::make_unique<RateLimiter>(pipeline.clock(), kDenialsRecordedPerMinute, 60LL * 1'000'000)) {}

bool Api::is_admin(const Request& req) const {
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return false;
  // The admin token counts only from the allowed addresses.
  auto peer = req.find("Causeway-Peer");
  if (!admin_allow_.empty() && (peer == req.end() || !admin_allow_.allows(std::string(peer->value())))) return false;
  std::string_view v = it->value();
  if (v.size() < 7 || !std::equal(v.begin(), v.begin() + 7, "Bearer ", [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
      }))
    return false;
  auto presented = hash_token(v.substr(7));
  return sodium_memcmp(presented.data(), admin_hash_.data(), presented.size()) == 0;
}

Result<Principal> Api::authenticate(const Request& req, std::string_view org) {
  if (is_admin(req)) return Principal{true, {}, "operator", {}, {}, {}};
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return Error::unauthorized("a bearer token is required");
  std::string_view v = it->value();
  if (v.size() > 11 && v.substr(7, 4) == "cwa_") {
    auto session = authenticate_session(req);
    if (!session) return std::move(session).error();
    std::string tenant(org);
    if (auto h = req.find(kOrganizationHeader); h != req.end()) tenant = std::string(h->value());
    if (tenant.empty())
      return Error::forbidden("a session acts in an organization: name it in the Causeway-Organization header");
    if (!is_id(tenant, "org")) return Error::forbidden("you are not a member of this organization");
    auto loaded = pipeline_.aggregates().load<OrganizationAggregate>(tenant);
    if (!loaded) return std::move(loaded).error();
    const std::string role = organization::role_of(loaded->state, session->user_id);
    if (role.empty()) return Error::forbidden("you are not a member of this organization");
    return Principal{false, tenant, role, {}, session->user_id, session->impersonator};
  }
  // "Bearer cwk_<32 hex key id>_<64 hex secret>"
  constexpr std::size_t kLen = 7 + 4 + 32 + 1 + 64;
  auto bearer = [](std::string_view s) {
    return s.size() >= 7 && std::equal(s.begin(), s.begin() + 7, "bearer ", [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == b;
           });
  };
  if (v.size() != kLen || !bearer(v) || v.substr(7, 4) != "cwk_" || v[43] != '_' ||
      !is_lower_hex(v.substr(11, 32)) || !is_lower_hex(v.substr(44)))
    return Error::unauthorized("the bearer token is not valid");
  const std::string key_id = "key-" + std::string(v.substr(11, 32));
  auto key = pipeline_.aggregates().load<ApiKeyAggregate>(key_id);
  if (!key) return std::move(key).error();
  const std::string presented = api_key_secret_hash(v.substr(44));
  const auto& s = key->state;
  // Compare even for unknown keys, so timing does not tell which ids exist.
  std::string stored = s.secret_hash.size() == presented.size() ? s.secret_hash : std::string(presented.size(), 'x');
  bool match = sodium_memcmp(stored.data(), presented.data(), presented.size()) == 0;
  if (!s.exists || s.revoked || !match) return Error::unauthorized("the bearer token is not valid");
  return Principal{false, s.org_id, s.role, key_id, {}, {}};
}

awaitable<Response> Api::handle(Request req) {
  const auto start = std::chrono::steady_clock::now();
  const std::string request_id = request_id_of(req);
  std::string route_name = "unmatched";
  Response res = co_await route(req, request_id, route_name);
  if (res.result_int() == 403 || res.find(kDeniedHeader) != res.end()) {
    res.erase(kDeniedHeader);
    co_await record_denied(req, route_name, res.result_int());
  }
  // A read-only server stays read-only: a retry would be refused again.
  if (pipeline_.read_only() && res.result_int() == 503) res.erase(http::field::retry_after);
  res.set("X-Request-Id", request_id);
  res.set(http::field::cache_control, "no-store");
  // Security headers on every response. An API serves no documents: nothing
  // may be loaded, framed or sent as a referrer. (HSTS belongs to the TLS
  // terminator in front: this server speaks plain HTTP.)
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Cross-Origin-Resource-Policy", "same-origin");
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  // Route names, not paths or bodies: no identifiers or personal data in logs.
  log_fields(res.result_int() >= 500 ? spdlog::level::warn : spdlog::level::debug, "request",
             {{"request_id", request_id},
              {"method", std::string(req.method_string())},
              {"route", route_name},
              {"status", res.result_int()},
              {"duration_us", us.count()}});
  co_return res;
}

std::optional<Response> Api::set_body_field(Request& req, const std::string& request_id, const char* field,
                                            const std::string& value, const std::string& why, bool body_optional) {
  json::value body = json::object();
  if (!body_optional || !req.body().empty()) {
    // parse_json_body answers 422 for anything but an object.
    auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
    if (auto* err = std::get_if<BodyError>(&parsed))
      return problem(err->status, err->detail, "", std::string(req.target()), request_id, req.version());
    body = std::move(std::get<json::value>(parsed));
  }
  auto& o = body.as_object();
  if (auto* given = o.if_contains(field); given && *given != json::value(value))
    return problem(Error::invalid(why, std::string("/") + field), std::string(req.target()), request_id, req.version());
  o[field] = value;
  req.set(http::field::content_type, "application/json");
  req.body() = json::serialize(body);
  return std::nullopt;
}

Response Api::tenant_denied(Response res) {
  res.set(kDeniedHeader, "1");
  return res;
}

bool Api::audit_read_unrecorded(const Actor& actor, std::string_view via) const {
  if (!pipeline_.read_only()) return false;
  log_fields(spdlog::level::info, "audit log read on a read-only server: not recorded in the log",
             {{"actor", actor.id}, {"impersonator", actor.impersonator}, {"via", via}});
  return true;
}

awaitable<void> Api::record_denied(const Request& req, const std::string& route_name, int status) {
  if (pipeline_.read_only()) co_return;  // records nothing, denials included
  // Only authenticated callers: recording what anyone sends would let them fill the log.
  Actor actor;
  std::string tenant;
  // A session may act in the organization its path names (no header): find it as the route did.
  std::string path_org;
  if (auto target = boost::urls::parse_origin_form(req.target())) {
    auto segs = target->segments();
    auto it = segs.begin();
    if (segs.size() >= 3 && *it == "v1" && *++it == "organizations") path_org = *++it;
  }
  if (auto who = authenticate(req, path_org); who) {
    actor = actor_of(*who);
    tenant = who->tenant;
  } else if (auto user = authenticate_session(req); user) {
    actor = Actor{user->user_id, user->impersonator};
  } else {
    co_return;
  }
  if (denied_limit_->acquire(actor.id)) {
    ++denied_unrecorded_;
    co_return;
  }
  json::object data{{"method", std::string(req.method_string())}, {"route", route_name}, {"status", status}};
  const std::int64_t now = pipeline_.clock().now_us();
  auto st = co_await run_on(pipeline_.cpu(), [&]() { return audit::record_denied(log_, actor, tenant, data, now); });
  if (!st) log_fields(spdlog::level::err, "access denial not recorded", {{"route", route_name}, {"error", st.error().message}});
}

awaitable<Response> Api::route(Request& req, const std::string& request_id, std::string& route_name) {
  const unsigned ver = req.version();
  auto target = boost::urls::parse_origin_form(req.target());
  if (!target) co_return problem(400, "the request target is malformed", "", "", request_id, ver);
  const std::string instance(target->encoded_path());
  std::vector<std::string> seg;
  for (auto s : target->segments()) seg.push_back(s);
  const auto method = req.method();
  auto not_allowed = [&](const char* allow) {
    auto res = problem(405, fmt::format("use {}", allow), "", instance, request_id, ver);
    res.set(http::field::allow, allow);
    return res;
  };

  if (seg.size() == 1 && seg[0] == "readyz") {
    route_name = "readyz";
    if (method != http::verb::get) co_return not_allowed("GET");
    const Readiness r = views_ ? readiness(startup_head_, views_->applied(), views_->status()) : Readiness{true, {}};
    if (!r.ready) co_return problem(503, r.reason, "", instance, request_id, ver);
    json::object o{{"status", "ready"}, {"startup_position", startup_head_.str()}};
    co_return json_response(http::status::ok, json::serialize(o), ver);
  }
  if (seg.size() == 1 && seg[0] == "healthz") {
    route_name = "healthz";
    if (method != http::verb::get) co_return not_allowed("GET");
    json::object o{{"status", "ok"}, {"position", log_.head().str()}};
    if (views_) {
      bool healthy = true;
      std::uint64_t lag = 0;
      for (const auto& p : views_->status()) {
        healthy = healthy && p.state != ProjectionState::failed;
        lag = std::max(lag, p.lag_events);
      }
      o["views"] = json::object{{"position", views_->applied().str()}, {"lag_events", lag}, {"healthy", healthy}};
    }
    co_return json_response(http::status::ok, json::serialize(o), ver);
  }
  if (seg.size() >= 2 && seg[0] == "v1" && seg[1] == "admin" && !admin_allow_.empty()) {
    auto peer = req.find("Causeway-Peer");
    if (peer == req.end() || !admin_allow_.allows(std::string(peer->value()))) {
      route_name = "admin.refused";
      co_return problem(403, "admin routes are not allowed from this address (see --admin-allow)", "", instance,
                        request_id, ver);
    }
  }
  if (seg.size() >= 2 && seg[0] == "v1") {
    if ((seg.size() == 3 && seg[1] == "users" && (seg[2] == "verification" || seg[2] == "verification-requests")) ||
        (seg[1] == "password-resets" && seg.size() <= 3) || (seg.size() == 2 && seg[1] == "magic-links") ||
        (seg.size() == 3 && seg[1] == "sessions" && seg[2] == "magic-link"))
      co_return co_await account_route(req, request_id, seg, route_name);
    if (seg[1] == "links") co_return co_await link_route(req, request_id, seg, route_name);
    if (seg.size() == 2 && (seg[1] == "openapi.json" || seg[1] == "openapi.yaml")) {
      route_name = "openapi";
      if (method != http::verb::get) co_return not_allowed("GET");
      const bool yaml = seg[1] == "openapi.yaml";
      // application/yaml: RFC 9512.
      Response res = yaml ? json_response(http::status::ok, std::string(openapi_yaml()), ver, "application/yaml")
                          : json_response(http::status::ok, std::string(openapi_json()), ver);
      res.set(http::field::cache_control, "no-cache");
      co_return res;
    }
    if (seg.size() == 3 && seg[1] == "users" && seg[2] == "password") {
      route_name = "users.password";
      if (method != http::verb::post) co_return not_allowed("POST");
      co_return co_await password_route(req, request_id);
    }
    if (seg.size() == 2 && seg[1] == "users") {
      route_name = "users.create";
      if (method != http::verb::post) co_return not_allowed("POST");
      co_return co_await command(req, request_id, "user.signup", "");
    }
    if (seg.size() == 2 && seg[1] == "organizations") {
      route_name = "organizations.create";
      if (method != http::verb::post) co_return not_allowed("POST");
      // The operator names the owner; a signed-in user creates an organization they own
      // (and is its actor: recorded, and the scope of its Idempotency-Key).
      if (is_admin(req)) co_return co_await command(req, request_id, "organization.create", "");
      auto who = authenticate_session(req);
      if (!who)
        co_return problem(401, "the admin token or a session access token is required", "", instance, request_id,
                          ver);
      if (auto bad = set_body_field(req, request_id, "owner_user_id", who->user_id,
                                    "a signed-in user creates organizations that they own", false))
        co_return std::move(*bad);
      const Principal creator{false, "", "", {}, who->user_id, who->impersonator};
      co_return co_await command(req, request_id, "organization.create", "", &creator);
    }
    if (seg.size() == 3 && seg[1] == "organizations") {
      route_name = method == http::verb::get ? "organizations.read" : "organizations.update";
      if (method != http::verb::patch && method != http::verb::get) co_return not_allowed("GET, PATCH");
      // The operator, or the organization's own owner or admin key; another
      // organization's key is told nothing exists.
      auto who = authenticate(req, seg[2]);
      if (!who) co_return problem(who.error(), instance, request_id, ver);
      if (!who->admin && who->tenant != seg[2])
        co_return tenant_denied(problem(404, "no such organization", "", instance, request_id, ver));
      if (method == http::verb::get) co_return read_organization(seg[2], instance, request_id, ver);
      if (!who->admin && who->role != "owner" && who->role != "admin")
        co_return problem(403, fmt::format("the {} role may not rename the organization", who->role), "", instance,
                          request_id, ver);
      co_return co_await command(req, request_id, "organization.rename", seg[2], who->admin ? nullptr : &*who);
    }
    if ((seg.size() >= 4 && seg[1] == "organizations" &&
         (seg[3] == "members" || seg[3] == "invitations" || seg[3] == "ownership-transfer")) ||
        (seg.size() == 3 && seg[1] == "invitations") || (seg.size() == 3 && seg[1] == "me" && seg[2] == "organizations"))
      co_return co_await member_route(req, request_id, seg, route_name);
    if ((seg.size() == 2 && seg[1] == "plans") || (seg.size() == 3 && seg[1] == "billing") ||
        (seg.size() >= 4 && seg[1] == "organizations" && (seg[3] == "subscription" || seg[3] == "flags")) ||
        (seg.size() == 6 && seg[1] == "admin" && seg[2] == "organizations" && seg[4] == "flags"))
      co_return co_await billing_route(req, request_id, seg, *target, route_name);
    if ((seg.size() == 4 || seg.size() == 5) && seg[1] == "organizations" && seg[3] == "api-keys")
      co_return co_await org_key_route(req, request_id, seg, route_name);
    if (seg.size() == 5 && seg[1] == "admin" && seg[2] == "organizations" && seg[4] == "api-keys") {
      route_name = "admin.api_keys.create";
      if (method != http::verb::post) co_return not_allowed("POST");
      if (!is_admin(req)) co_return problem(401, "an admin bearer token is required", "", instance, request_id, ver);
      if (req.find("Idempotency-Key") != req.end())
        co_return problem(400, "API key creation takes no Idempotency-Key: the token is shown once and never stored",
                          "", instance, request_id, ver);
      co_return co_await command(req, request_id, "api_key.create", seg[3]);
    }
    if (seg.size() == 4 && seg[1] == "admin" && seg[2] == "api-keys") {
      route_name = "admin.api_keys.revoke";
      if (method != http::verb::delete_) co_return not_allowed("DELETE");
      if (!is_admin(req)) co_return problem(401, "an admin bearer token is required", "", instance, request_id, ver);
      if (seg[3].rfind("key-", 0) != 0) co_return problem(404, "no such API key", "", instance, request_id, ver);
      req.set(http::field::content_type, "application/json");
      req.body() = "{}";
      co_return co_await command(req, request_id, "api_key.revoke", seg[3]);
    }
    if (views_ && seg[1] == "me" && seg.size() >= 3 && seg[2] == "notifications")
      co_return co_await inbox_route(req, request_id, seg, route_name);
    if (seg[1] == "me") co_return co_await me_route(req, request_id, seg, route_name);
    if (executor_ && seg.size() == 2 && seg[1] == "events") {
      route_name = "events.ingest";
      if (method != http::verb::post) co_return not_allowed("POST");
      auto who = authenticate(req);
      if (!who) co_return problem(who.error(), instance, request_id, ver);
      if (who->admin || (who->role != "owner" && who->role != "admin" && who->role != "member"))
        co_return problem(403, "events are ingested with an organization's owner, admin or member API key", "",
                          instance, request_id, ver);
      co_return co_await command(req, request_id, "event.ingest", who->tenant, &*who);
    }
    if (executor_ && seg[1] == "workflows") co_return co_await workflow_route(req, request_id, seg, route_name);
    if (executor_ && seg.size() == 2 && seg[1] == "runs") {
      // The organization's runs: the workflow_runs view, with its filters (workflow_id,
      // status, ...) and paging.
      route_name = "runs.list";
      if (method != http::verb::get) co_return not_allowed("GET");
      auto url = boost::urls::parse_origin_form(req.target());
      if (!url) co_return problem(400, "the request target is not a valid URL", "", instance, request_id, ver);
      co_return co_await read_view(req, request_id, "workflow_runs", *url);
    }
    if (executor_ && seg[1] == "runs" && seg.size() >= 3)
      co_return co_await run_route(req, request_id, seg, route_name);
    if (seg[1] == "sessions" && seg.size() <= 3)
      co_return co_await session_route(req, request_id, seg, route_name);
    if (views_ && seg.size() == 3 && seg[1] == "views") {
      route_name = "views.read";
      if (method != http::verb::get) co_return not_allowed("GET");
      co_return co_await read_view(req, request_id, seg[2], *target);
    }
    if (signer_ && seg.size() == 3 && seg[1] == "audit" && seg[2] == "export") {
      route_name = "audit.export";
      if (method != http::verb::get) co_return not_allowed("GET");
      co_return co_await audit_export(req, request_id, *target);
    }
    if (signer_ && seg.size() == 3 && seg[1] == "audit" && seg[2] == "public-key") {
      route_name = "audit.public_key";
      if (method != http::verb::get) co_return not_allowed("GET");
      co_return audit_public_key(req, request_id);
    }
    if (views_ && seg.size() == 2 && seg[1] == "query") {
      route_name = "query";
      if (method != http::verb::post) co_return not_allowed("POST");
      co_return co_await analyst_sql(req, request_id);
    }
    if (views_ && seg.size() == 3 && seg[1] == "admin" && seg[2] == "projections") {
      route_name = "admin.projections";
      if (method != http::verb::get) co_return not_allowed("GET");
      co_return co_await projections_route(req, request_id, false);
    }
    if (views_ && seg.size() == 4 && seg[1] == "admin" && seg[2] == "projections" && seg[3] == "rebuild") {
      route_name = "admin.projections.rebuild";
      if (method != http::verb::post) co_return not_allowed("POST");
      co_return co_await projections_route(req, request_id, true);
    }
    if (seg.size() == 3 && seg[1] == "admin" && seg[2] == "metrics") {
      route_name = "admin.metrics";
      if (method != http::verb::get) co_return not_allowed("GET");
      if (!is_admin(req)) co_return problem(401, "an admin bearer token is required", "", instance, request_id, ver);
      co_return metrics(req, request_id);
    }
    if (seg.size() == 3 && seg[1] == "admin" && seg[2] == "backups") {
      route_name = "admin.backups";
      if (method != http::verb::post) co_return not_allowed("POST");
      co_return co_await backup_route(req, request_id);
    }
    if (seg.size() == 3 && seg[1] == "admin" && seg[2] == "impersonations") {
      route_name = "admin.impersonations";
      co_return co_await impersonate(req, request_id);
    }
    if (seg.size() == 5 && seg[1] == "admin" && seg[2] == "subjects")
      co_return co_await gdpr_route(req, request_id, seg, *target, route_name);
    if (seg.size() >= 3 && seg[1] == "admin" && (seg[2] == "retention-policies" || seg[2] == "retention"))
      co_return co_await retention_route(req, request_id, seg, route_name);
    if (seg.size() >= 3 && seg[1] == "admin" && seg[2] == "dsr")
      co_return co_await dsr_route(req, request_id, seg, *target, route_name);
    if (seg.size() == 5 && seg[1] == "admin" && seg[2] == "streams" && seg[4] == "events") {
      route_name = "admin.stream_events";
      if (method != http::verb::get) co_return not_allowed("GET");
      if (!is_admin(req)) co_return problem(401, "an admin bearer token is required", "", instance, request_id, ver);
      co_return stream_events(req, request_id, seg[3], *target);
    }
  }
  co_return problem(404, "no such route", "", instance, request_id, ver);
}

// GET /v1/organizations/{org}: its state as of its stream version, which is
// also the ETag (the If-Match of a rename or of any other command on it).
Response Api::read_organization(const std::string& org, const std::string& instance, const std::string& request_id,
                                unsigned ver) {
  auto loaded = pipeline_.aggregates().load<OrganizationAggregate>(org);
  if (!loaded) return problem(loaded.error(), instance, request_id, ver);
  const auto& s = loaded->state;
  if (!s.exists) return problem(404, "no such organization", "", instance, request_id, ver);
  json::array members;
  for (const auto& [user, m] : s.members)
    members.push_back(json::object{{"user_id", user}, {"role", m.role}, {"joined_at", rfc3339_us(m.joined_at_us)}});
  json::object body{{"org_id", org},
                    {"slug", s.slug},
                    {"name", s.name},
                    {"owner_user_id", s.owner_user_id},
                    {"members", std::move(members)},
                    {"webhook_secret_generation", static_cast<std::int64_t>(s.webhook_generation)},
                    {"stream_version", static_cast<std::int64_t>(loaded->version)}};
  Response res = json_response(http::status::ok, json::serialize(body), ver);
  res.set(http::field::etag, "\"" + std::to_string(loaded->version) + "\"");
  return res;
}

awaitable<Response> Api::command(Request& req, const std::string& request_id, const std::string& name,
                                 std::string target, const Principal* who) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
  if (auto* err = std::get_if<BodyError>(&parsed))
    co_return problem(err->status, err->detail, "", instance, request_id, ver);

  CommandContext ctx;
  if (is_admin(req)) ctx.actor = Actor{"admin", {}};
  if (who) {
    ctx.actor = actor_of(*who);
    ctx.tenant = who->tenant;
    ctx.api_call = !who->key_id.empty();
  }
  ctx.request_id = request_id;
  ctx.target = std::move(target);
  if (auto it = req.find("Idempotency-Key"); it != req.end()) {
    if (!token_chars(it->value(), 255))
      co_return problem(400, "Idempotency-Key must be 1 to 255 visible ASCII characters", "", instance, request_id,
                        ver);
    ctx.idempotency_key = std::string(it->value());
  }
  if (auto it = req.find(http::field::if_match); it != req.end()) {
    std::string_view v = it->value();
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    auto n = parse_u64(v);
    if (!n) co_return problem(400, "If-Match must be a stream version such as \"3\"", "", instance, request_id, ver);
    ctx.expected_version = *n;
  }
  if (auto it = req.find("traceparent"); it != req.end() && token_chars(it->value(), 128))
    ctx.traceparent = std::string(it->value());
  if (auto it = req.find("X-Correlation-Id"); it != req.end() && token_chars(it->value(), 128))
    ctx.correlation_id = std::string(it->value());

  auto outcome = co_await pipeline_.execute(name, std::move(std::get<json::value>(parsed)), std::move(ctx));
  if (!outcome) {
    const auto& e = outcome.error();
    if (e.code == Errc::corruption || e.code == Errc::unavailable)
      log_fields(spdlog::level::err, "command failed",
                 {{"request_id", request_id}, {"command", name}, {"code", errc_name(e.code)}, {"error", e.message}});
    co_return problem(e, instance, request_id, ver);
  }
  Response res = json_response(static_cast<http::status>(outcome->status), std::move(outcome->body), ver);
  res.set("Causeway-Position", outcome->token.str());
  if (outcome->replayed) res.set("Idempotent-Replayed", "true");
  co_return res;
}

Response Api::metrics(const Request& req, const std::string&) {
  std::string out;
  auto metric = [&out](const char* name, const char* type, const char* help, double value,
                       const std::string& labels = {}) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{}{} {}\n", name, help, name, type, name, labels, value);
  };
  if (executor_) {
    metric("causeway_workflow_runs_active", "gauge", "Workflow runs not ended that the executor drives.",
           static_cast<double>(executor_->active()));
    metric("causeway_workflow_runs_marked_stuck_total", "counter",
           "Runs marked stuck: no progress for longer than their workflow's stuck_after_ms.",
           static_cast<double>(executor_->stuck_marked()));
    metric("causeway_workflow_advance_failures_total", "counter",
           "Run decisions that failed and were retried or dropped.",
           static_cast<double>(executor_->advance_failures()));
  }
  if (dispatcher_) {
    metric("causeway_workflow_trigger_starts_total", "counter", "Runs started by event and schedule triggers.",
           static_cast<double>(dispatcher_->started_runs()));
    metric("causeway_workflow_trigger_failures_total", "counter",
           "Triggered starts refused (e.g. event fields not matching the declared input types).",
           static_cast<double>(dispatcher_->failed_starts()));
  }
  if (mail_counts_) {
    const auto [sent, given_up] = mail_counts_();
    metric("causeway_mail_sent_total", "counter", "Mail the outbox handed to the transport.",
           static_cast<double>(sent));
    metric("causeway_mail_given_up_total", "counter",
           "Mail the outbox stopped retrying (each also logged as \"mail given up\").",
           static_cast<double>(given_up));
  }
  metric("causeway_access_denied_unrecorded_total", "counter",
         "Access denials not recorded as events: past the per-actor limit of a minute.",
         static_cast<double>(denied_unrecorded_.load()));
  if (views_) {
    out += "# HELP causeway_projection_lag_events Events of the log a projection has not applied yet.\n"
           "# TYPE causeway_projection_lag_events gauge\n";
    for (const auto& p : views_->status())
      out += fmt::format("causeway_projection_lag_events{{projection=\"{}\"}} {}\n", p.name, p.lag_events);
  }
  return json_response(http::status::ok, std::move(out), req.version(), "text/plain; version=0.0.4");
}

Response Api::stream_events(const Request& req, const std::string& request_id, const std::string& stream,
                            const boost::urls::url_view& url) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  std::uint64_t from = 1;
  std::uint64_t limit = 100;
  for (auto p : url.params()) {
    std::string key = p.key, value = p.value;
    if (key == "from_version") {
      auto n = parse_u64(value);
      if (!n || *n == 0) return problem(400, "from_version must be a positive integer", "", instance, request_id, ver);
      from = *n;
    } else if (key == "limit") {
      auto n = parse_u64(value);
      if (!n || *n == 0 || *n > 1000)
        return problem(400, "limit must be between 1 and 1000", "", instance, request_id, ver);
      limit = *n;
    } else {
      return problem(400, fmt::format("unknown query parameter {}", key), "", instance, request_id, ver);
    }
  }
  auto events = log_.read_stream(stream, from, limit);
  if (!events) return problem(events.error(), instance, request_id, ver);
  if (events->empty() && from == 1) return problem(404, "no such stream", "", instance, request_id, ver);
  json::array out;
  for (const auto& e : *events) {
    boost::system::error_code ec;
    auto data = json::parse(e.data, ec);
    if (ec) return problem(Error::corruption("event payload"), instance, request_id, ver);
    pipeline_.schemas().redact_secrets(e.type, e.schema_version, data);
    if (auto st = vault_.open_all(data); !st) return problem(st.error(), instance, request_id, ver);
    out.push_back(to_cloudevent(e, data));
  }
  json::object body;
  body["stream"] = stream;
  body["events"] = std::move(out);
  if (events->size() == limit) body["next_from_version"] = events->back().stream_version + 1;
  auto res = json_response(http::status::ok, json::serialize(body), ver);
  res.set("Causeway-Position", log_.head().str());
  return res;
}

}  // namespace causeway::api
