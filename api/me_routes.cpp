// The caller's own account, with a session access token (session_routes.cpp):
//   GET    /v1/me                      {user_id, email, display_name, email_verified, two_factor,
//                                       signed_up_at, password_changed_at, session_id, impersonated_by?}
//   POST   /v1/me/totp                 enroll: {secret, otpauth_uri}, shown once
//   POST   /v1/me/totp/confirmation    {otp} -> two-factor on, {backup_codes} shown once
//   DELETE /v1/me/totp                 {otp} or {backup_code} -> two-factor off
//   GET    /v1/me/referral             {referral_code}: give it at signup ("referral_code") to be referred
// Secrets and backup codes are in replies only: Idempotency-Key is refused.
#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "api/account_support.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "engine/commands/traits.h"
#include "events/codec.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

awaitable<Response> Api::me_route(Request& req, const std::string& request_id, const std::vector<std::string>& seg,
                                  std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  std::string name;
  if (seg.size() == 2) {
    route_name = "me.read";
    if (req.method() != http::verb::get) co_return method_not_allowed("GET", instance, request_id, ver);
    auto who = authenticate_session(req);
    if (!who) co_return problem(who.error(), instance, request_id, ver);
    auto account = pipeline_.aggregates().load<UserAggregate>(who->user_id);
    if (!account) co_return problem(account.error(), instance, request_id, ver);
    auto creds = credentials_of(log_, vault_, who->user_id);
    if (!creds) co_return problem(creds.error(), instance, request_id, ver);
    const auto& s = account->state;
    json::object body{{"user_id", who->user_id},
                      {"email", creds->email},
                      {"display_name", creds->display_name},
                      {"email_verified", s.email_verified},
                      {"two_factor", s.totp_enabled},
                      {"signed_up_at", rfc3339_us(s.signed_up_at_us)},
                      {"password_changed_at", rfc3339_us(s.password_changed_at_us)},
                      {"session_id", who->session_id}};
    if (!who->impersonator.empty()) body["impersonated_by"] = who->impersonator;
    co_return json_response(http::status::ok, json::serialize(body), ver);
  }
  if (seg.size() == 3 && seg[2] == "referral") {
    route_name = "me.referral";
    if (req.method() != http::verb::get) co_return method_not_allowed("GET", instance, request_id, ver);
    auto who = authenticate_session(req);
    if (!who) co_return problem(who.error(), instance, request_id, ver);
    const std::string code = referral_code_of(vault_, who->user_id);
    auto owner = log_.reservation_owner("referral:" + code);
    if (!owner) co_return problem(owner.error(), instance, request_id, ver);
    json::object body{{"user_id", who->user_id},
                      {"referral_code", code},
                      // Accounts from before referrals have a code that no signup can give yet.
                      {"active", owner->has_value() && **owner == who->user_id}};
    co_return json_response(http::status::ok, json::serialize(body), ver);
  }
  if (seg.size() == 3 && seg[2] == "totp" && req.method() == http::verb::post) {
    route_name = "me.totp.enroll";
    name = "user.totp_enroll";
  } else if (seg.size() == 4 && seg[2] == "totp" && seg[3] == "confirmation" && req.method() == http::verb::post) {
    route_name = "me.totp.confirm";
    name = "user.totp_confirm";
  } else if (seg.size() == 3 && seg[2] == "totp" && req.method() == http::verb::delete_) {
    route_name = "me.totp.disable";
    name = "user.totp_disable";
  } else if (seg.size() == 3 && seg[2] == "totp") {
    co_return method_not_allowed("POST, DELETE", instance, request_id, ver);
  } else if (seg.size() == 4 && seg[2] == "totp" && seg[3] == "confirmation") {
    co_return method_not_allowed("POST", instance, request_id, ver);
  } else {
    co_return problem(404, "no such route", "", instance, request_id, ver);
  }
  auto who = authenticate_session(req);
  if (!who) co_return problem(who.error(), instance, request_id, ver);
  if (!who->impersonator.empty())
    co_return problem(403, "two-factor settings are not changed while impersonating", "", instance, request_id, ver);
  if (req.find("Idempotency-Key") != req.end())
    co_return problem(400, "this route takes no Idempotency-Key: its secrets are shown once and never stored", "",
                      instance, request_id, ver);
  json::value body = json::object();
  if (!req.body().empty()) {
    auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
    if (auto* err = std::get_if<BodyError>(&parsed))
      co_return problem(err->status, err->detail, "", instance, request_id, ver);
    body = std::move(std::get<json::value>(parsed));
  }
  CommandContext ctx;
  ctx.actor = Actor{who->user_id, who->impersonator};
  ctx.request_id = request_id;
  ctx.target = who->user_id;
  auto out = co_await pipeline_.execute(name, std::move(body), std::move(ctx));
  if (!out) co_return problem(out.error(), instance, request_id, ver);
  Response res = json_response(static_cast<http::status>(out->status), std::move(out->body), ver);
  res.set("Causeway-Position", out->token.str());
  co_return res;
}

}  // namespace causeway::api
