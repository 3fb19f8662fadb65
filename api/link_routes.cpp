// The pages the links in mail open (engine/mail/outbox.h), until the console
// serves its own: each says what the link is, whether it can still be used,
// and the API call that uses it. Reading one changes nothing (mail clients
// and scanners open links by themselves), so a link is only ever spent by
// that call, or by the page's form, whose POST makes that call.
//
//   GET /v1/links/verify-email?token=   -> POST /v1/users/verification {token}
//   GET /v1/links/reset-password?token= -> POST /v1/password-resets/confirmation {token, new_password}
//   GET /v1/links/magic-link?token=     -> POST /v1/sessions/magic-link {token}
//   GET /v1/links/invitation?token=     -> POST /v1/invitations/acceptance {token} (signed in as the invitee)
//                                          or POST /v1/invitations/declination {token}
//
// GET: 200 {link, usable, reason?, expires_at?, use: [{method, path, body}]};
// a token that is not a valid link of that kind is 404. A browser (Accept
// preferring text/html) gets the same as an HTML page with a form instead
// (link_pages.h). POST /v1/links/<kind> takes that form
// (application/x-www-form-urlencoded: token, new_password, otp; action=decline
// for an invitation), makes the call and answers a page saying how it went,
// with the call's status. Counted against the per-address limit of the login
// routes, like the calls that use the links.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <boost/url/parse.hpp>

#include "api/account_support.h"
#include "api/link_pages.h"
#include "api/routes.h"
#include "engine/commands/traits.h"
#include "engine/mail/tokens.h"
#include "events/codec.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

struct LinkKind {
  const char* page;     // the path segment after /v1/links/
  const char* purpose;  // the token's (engine/mail/tokens.h)
  const char* use_path;
  bool new_password;
};

namespace {

constexpr LinkKind kLinks[] = {
    {"verify-email", "verify_email", "/v1/users/verification", false},
    {"reset-password", "password_reset", "/v1/password-resets/confirmation", true},
    {"magic-link", "magic_link", "/v1/sessions/magic-link", false},
    {"invitation", "invitation", "/v1/invitations/acceptance", false},
};

const LinkKind* link_kind(const std::string& page) {
  for (const auto& k : kLinks)
    if (page == k.page) return &k;
  return nullptr;
}

json::object call(const char* path, const std::string& token, bool new_password) {
  json::object body{{"token", token}};
  if (new_password) body["new_password"] = "<your new password>";
  return json::object{{"method", "POST"}, {"path", path}, {"body", std::move(body)}};
}

Response html_response(http::status status, std::string body, unsigned version) {
  return json_response(status, std::move(body), version, "text/html; charset=utf-8");
}

}  // namespace

awaitable<Response> Api::link_route(Request& req, const std::string& request_id,
                                    const std::vector<std::string>& seg, std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  route_name = "links.read";
  const LinkKind* kind = seg.size() == 3 ? link_kind(seg[2]) : nullptr;
  if (!kind) co_return problem(404, "no such route", "", instance, request_id, ver);
  if (req.method() == http::verb::post) {
    route_name = "links.use";
    co_return co_await link_form_post(req, request_id, *kind);
  }
  if (req.method() != http::verb::get) co_return method_not_allowed("GET, POST", instance, request_id, ver);
  if (auto wait = login_limit_->acquire(peer_of(req)))
    co_return too_many("too many attempts from this address", wait, instance, request_id, ver);
  const bool html = prefers_html(req[http::field::accept]);
  std::string token;
  if (auto url = boost::urls::parse_origin_form(req.target()); url)
    if (auto it = url->params().find("token"); it != url->params().end()) token = (*it).value;
  const bool invitation = std::string_view(kind->purpose) == "invitation";
  LinkPage page{kind->page, kind->purpose, false, "this is not a valid link", "", token};
  auto ref = mail::check_account_token(vault_, kind->purpose, token, invitation ? "org-" : "user-");
  if (!ref)
    co_return html ? html_response(http::status::not_found, link_form_page(page), ver)
                   : problem(404, "this is not a valid link", "", instance, request_id, ver);

  json::object out{{"link", kind->purpose}};
  json::array use{call(kind->use_path, token, kind->new_password)};
  const std::int64_t now = pipeline_.clock().now_us();
  std::string reason;
  std::int64_t expires_at = 0;
  if (invitation) {
    auto org = pipeline_.aggregates().load<OrganizationAggregate>(ref->user_id);
    if (!org) co_return problem(org.error(), instance, request_id, ver);
    auto it = org->state.invitations.find(ref->token_id);
    if (!organization::is_pending(org->state, ref->token_id, now)) reason = "this invitation has ended or expired";
    else expires_at = it->second.expires_at_us;
    use.push_back(call("/v1/invitations/declination", token, false));
  } else {
    auto account = pipeline_.aggregates().load<UserAggregate>(ref->user_id);
    if (!account) co_return problem(account.error(), instance, request_id, ver);
    auto t = user::usable_token(account->state, kind->purpose, ref->token_id, now);
    if (!t) reason = t.error().message;
    else expires_at = t->expires_at_us;
  }
  if (html) {
    page.usable = reason.empty();
    page.reason = reason;
    if (expires_at) page.expires_at = rfc3339_us(expires_at);
    co_return html_response(http::status::ok, link_form_page(page), ver);
  }
  out["usable"] = reason.empty();
  if (!reason.empty()) out["reason"] = reason;
  if (expires_at) out["expires_at"] = rfc3339_us(expires_at);
  if (reason.empty()) out["use"] = std::move(use);
  co_return json_response(http::status::ok, json::serialize(out), ver);
}

// The form's POST: the API call the link stands for, made through the one
// router with a JSON body, and its answer rendered as a page.
awaitable<Response> Api::link_form_post(Request& req, const std::string& request_id, const LinkKind& kind) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  const auto type = req[http::field::content_type];
  std::map<std::string, std::string> form;
  if (type.substr(0, type.find(';')) != "application/x-www-form-urlencoded")
    co_return problem(415, "send the link's form (application/x-www-form-urlencoded)", "", instance, request_id, ver);
  if (!parse_form(req.body(), form)) co_return problem(400, "the form is not well-formed", "", instance, request_id, ver);
  json::object body{{"token", form["token"]}};
  if (kind.new_password) body["new_password"] = form["new_password"];
  if (!form["otp"].empty()) body["otp"] = form["otp"];
  std::string path = kind.use_path;
  if (std::string_view(kind.purpose) == "invitation") {
    if (form["action"] != "decline")
      co_return problem(422, "the form can only decline an invitation; accept it signed in", "/action", instance,
                        request_id, ver);
    path = "/v1/invitations/declination";
  }
  // A verification link used again succeeds without a change: say so.
  std::string action;
  if (std::string_view(kind.purpose) == "verify_email")
    if (auto ref = mail::check_account_token(vault_, kind.purpose, form["token"]))
      if (auto account = pipeline_.aggregates().load<UserAggregate>(ref->user_id); account && account->state.email_verified)
        action = "already";
  Request inner{http::verb::post, path, ver};
  for (const char* name : {"Causeway-Peer", "User-Agent"})  // who asks, for the limits and the session's device
    if (auto it = req.find(name); it != req.end()) inner.set(name, it->value());
  inner.set(http::field::content_type, "application/json");
  inner.set(http::field::accept, "application/json");
  inner.body() = json::serialize(body);
  inner.prepare_payload();
  std::string inner_route;
  Response answer = co_await route(inner, request_id, inner_route);
  boost::system::error_code ec;
  json::value reply = json::parse(answer.body(), ec);
  const int status = static_cast<int>(answer.result_int());
  Response res = html_response(answer.result(), link_result_page(kind.purpose, action, status, reply), ver);
  if (auto retry = answer.find(http::field::retry_after); retry != answer.end()) res.set(http::field::retry_after, retry->value());
  co_return res;
}

}  // namespace causeway::api
