// Account links, mailed through the outbox (engine/mail/outbox.h), each a
// single-use, expiring token (engine/mail/tokens.h):
//
//   POST /v1/users/verification           {token}                 -> 200 the address is verified
//   POST /v1/users/verification-requests  {email}                 -> 202 a new verification link
//   POST /v1/password-resets              {email}                 -> 202 a reset link
//   POST /v1/password-resets/confirmation {token, new_password, otp?|backup_code?} -> 200, every session revoked
//   POST /v1/magic-links                  {email}                 -> 202 a sign-in link
//   POST /v1/sessions/magic-link          {token, otp?|backup_code?} -> 201 session tokens (shown once)
//
// Asking for a link answers 202 whether or not the address has an account, so
// the answer tells nothing. Every route counts against the per-address limit
// of the login routes, and asking for links also against a per-account limit
// (kLinksPerAccountPerHour per purpose; 429 with Retry-After). A bad, spent
// or expired token is 401. With two-factor on, a reset and a magic-link
// sign-in also need the second factor (step-up).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <map>
#include <span>

#include "api/account_support.h"
#include "api/json_body.h"
#include "api/log.h"
#include "api/routes.h"
#include "engine/commands/traits.h"
#include "engine/mail/tokens.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

namespace {
// (Named arrays, not braced lists: GCC 12 cannot keep a braced list's array in a coroutine frame.)
constexpr const char* kEmail[] = {"email"};
constexpr const char* kToken[] = {"token"};
constexpr const char* kReset[] = {"token", "new_password"};

}  // namespace

awaitable<void> Api::issue_link(std::string user_id, std::string purpose, std::string request_id) {
  CommandContext ctx;
  ctx.actor = Actor{user_id, {}};
  ctx.request_id = request_id;
  ctx.target = user_id;
  const std::string name = "user.request_token";
  json::value request = json::object{{"purpose", purpose}};
  auto out = co_await pipeline_.execute(name, std::move(request), std::move(ctx));
  // not_found: the account was erased since. Anything else is the operator's to see.
  if (!out && out.error().code != Errc::not_found)
    log_fields(spdlog::level::warn, "a mailed link could not be issued",
               {{"request_id", request_id}, {"purpose", purpose}, {"error", out.error().message}});
}

awaitable<Response> Api::account_route(Request& req, const std::string& request_id,
                                       const std::vector<std::string>& seg, std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  const bool known = (seg.size() == 3 && seg[1] == "users") || (seg.size() == 2 && seg[1] == "password-resets") ||
                     (seg.size() == 3 && seg[1] == "password-resets" && seg[2] == "confirmation") ||
                     seg[1] == "magic-links" || seg[1] == "sessions";
  if (!known) co_return problem(404, "no such route", "", instance, request_id, ver);
  if (req.method() != http::verb::post) co_return method_not_allowed("POST", instance, request_id, ver);
  const bool link_request = seg.back() == "verification-requests" || seg.back() == "password-resets" ||
                            seg.back() == "magic-links";
  const bool issues_tokens = seg.back() == "magic-link";
  route_name = link_request ? "account.link_request" : "account.link_use";
  if (issues_tokens && req.find("Idempotency-Key") != req.end())
    co_return problem(400, "this route takes no Idempotency-Key: its tokens are shown once and never stored", "",
                      instance, request_id, ver);
  if (auto wait = login_limit_->acquire(peer_of(req)))
    co_return too_many("too many attempts from this address", wait, instance, request_id, ver);
  auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
  if (auto* err = std::get_if<BodyError>(&parsed)) co_return problem(err->status, err->detail, "", instance, request_id, ver);
  const json::value& body = std::get<json::value>(parsed);
  auto run = [&](const std::string& name, json::value b, const std::string& user_id) {
    CommandContext ctx;
    ctx.actor = Actor{user_id, {}};
    ctx.request_id = request_id;
    ctx.target = user_id;
    return pipeline_.execute(name, std::move(b), std::move(ctx));
  };
  auto invalid_link = [&](const Error& e) {
    return problem(401, e.code == Errc::unauthorized ? e.message : "this link is not valid", "", instance, request_id,
                   ver);
  };

  if (link_request) {
    auto f = string_fields(body, kEmail, false);
    if (!f) co_return problem(f.error(), instance, request_id, ver);
    const char* purpose = seg.back() == "password-resets" ? "password_reset"
                          : seg.back() == "magic-links"   ? "magic_link"
                                                          : "verify_email";
    const std::string email_index = vault_.blind_index("email", user::normalize_email(f->text["email"]));
    // Counted per address asked about, known or not: the limit tells nothing either.
    if (auto wait = account_link_limit_->acquire(std::string(purpose) + ":" + email_index))
      co_return too_many("too many links asked for this address; try again later", wait, instance, request_id, ver);
    auto owner = log_.reservation_owner("email:" + email_index);
    if (!owner) co_return problem(owner.error(), instance, request_id, ver);
    // The account's work runs beside the reply, not before it: the answer and
    // its timing are those of an unknown address (docs/api.md, "What each route reveals").
    if (owner->has_value())
      boost::asio::co_spawn(co_await boost::asio::this_coro::executor, issue_link(**owner, purpose, request_id),
                            boost::asio::detached);
    co_return json_response(http::status::accepted,
                            json::serialize(json::object{{"status", "accepted"},
                                                         {"detail", "if the address has an account, a link is on its way"}}),
                            ver);
  }

  if (seg.size() == 3 && seg[1] == "users") {  // verification
    auto f = string_fields(body, kToken, false);
    if (!f) co_return problem(f.error(), instance, request_id, ver);
    auto ref = mail::check_account_token(vault_, "verify_email", f->text["token"]);
    if (!ref) co_return invalid_link(ref.error());
    const std::string name = "user.verify_email";
    json::value spend = json::object{{"token_id", ref->token_id}};
    auto out = co_await run(name, std::move(spend), ref->user_id);
    if (!out) co_return out.error().code == Errc::unauthorized || out.error().code == Errc::not_found
                            ? invalid_link(out.error())
                            : problem(out.error(), instance, request_id, ver);
    Response res = json_response(http::status::ok, out->body, ver);
    res.set("Causeway-Position", out->token.str());
    co_return res;
  }

  const bool reset = seg[1] == "password-resets";
  auto f = string_fields(body, reset ? std::span<const char* const>(kReset) : std::span<const char* const>(kToken), true);
  if (!f) co_return problem(f.error(), instance, request_id, ver);
  const char* purpose = reset ? "password_reset" : "magic_link";
  auto ref = mail::check_account_token(vault_, purpose, f->text["token"]);
  if (!ref) co_return invalid_link(ref.error());
  auto account = pipeline_.aggregates().load<UserAggregate>(ref->user_id);
  if (!account) co_return problem(account.error(), instance, request_id, ver);
  if (auto t = user::usable_token(account->state, purpose, ref->token_id, pipeline_.clock().now_us()); !t)
    co_return invalid_link(t.error());
  // Step-up: a link alone does not pass two-factor.
  if (auto refused = co_await second_factor(req, request_id, ref->user_id, f->factor)) co_return std::move(*refused);

  if (!reset) {
    json::value start = json::object{
        {"user_agent", user_agent_of(req)}, {"ip", peer_of(req)}, {"magic_token_id", ref->token_id}};
    const std::string name = "session.start";
    auto out = co_await run(name, std::move(start), ref->user_id);
    if (!out)
      co_return out.error().code == Errc::conflict || out.error().code == Errc::unauthorized
                    ? problem(401, "this link was already used", "", instance, request_id, ver)
                    : problem(out.error(), instance, request_id, ver);
    Response res = json_response(static_cast<http::status>(out->status), out->body, ver);
    res.set("Causeway-Position", out->token.str());
    co_return res;
  }

  const std::string& fresh = f->text["new_password"];
  if (fresh.size() < 12 || fresh.size() > 256)
    co_return problem(Error::invalid("new_password must be 12 to 256 characters", "/new_password"), instance,
                      request_id, ver);
  auto creds = credentials_of(log_, vault_, ref->user_id);
  if (!creds) co_return problem(creds.error(), instance, request_id, ver);
  auto hashed = co_await hash_new_password(*creds, creds->email, fresh);
  if (!hashed) co_return problem(hashed.error(), instance, request_id, ver);
  const std::string name = "user.reset_password";
  json::value spend = json::object{{"token_id", ref->token_id}, {"password_hash", *hashed}};
  auto out = co_await run(name, std::move(spend), ref->user_id);
  if (!out)
    co_return out.error().code == Errc::unauthorized ? invalid_link(out.error())
                                                     : problem(out.error(), instance, request_id, ver);
  auto revoked = co_await revoke_sessions(ref->user_id, request_id, out->token);
  if (!revoked) co_return problem(revoked.error(), instance, request_id, ver);
  co_return password_changed(ref->user_id, *revoked, ver);
}

}  // namespace causeway::api
