// Membership routes (engine/aggregates/organization.h):
//
//   GET    /v1/organizations/{org}/members               members; pending invitations for owners and admins
//   POST   /v1/organizations/{org}/invitations           organization.invite {email, role}      (owner, admin)
//   DELETE /v1/organizations/{org}/invitations/{id}      organization.revoke_invitation         (owner, admin)
//   PUT    /v1/organizations/{org}/members/{user}/role   organization.change_role {role}        (owner, admin)
//   DELETE /v1/organizations/{org}/members/{user}        organization.remove_member             (owner, admin; or
//                                                        the member themself: leaving)
//   POST   /v1/organizations/{org}/ownership-transfer    organization.transfer_ownership {user_id} (the owner's
//                                                        session, or the operator)
//   POST   /v1/invitations/acceptance                    {token}: the signed-in user joins
//   POST   /v1/invitations/declination                   {token}: whoever holds the link declines
//   GET    /v1/me/organizations                          the signed-in user's organizations and roles
//
// Credentials are the operator's token, an organization's API key, or a
// session acting in the organization (Api::authenticate). Another
// organization's credentials are told the organization does not exist.
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <set>

#include "api/account_support.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "engine/audit/export.h"
#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "engine/mail/tokens.h"
#include "events/codec.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

namespace {

bool manager(const Principal& p) { return p.admin || p.role == "owner" || p.role == "admin"; }

}  // namespace

awaitable<Response> Api::member_route(Request& req, const std::string& request_id,
                                      const std::vector<std::string>& seg, std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  const auto method = req.method();
  auto not_allowed = [&](const char* allow) { return method_not_allowed(allow, instance, request_id, ver); };

  // /v1/invitations/acceptance and /v1/invitations/declination: the link's token.
  if (seg[1] == "invitations") {
    const bool accept = seg[2] == "acceptance";
    route_name = accept ? "invitations.accept" : "invitations.decline";
    if (seg.size() != 3 || (!accept && seg[2] != "declination"))
      co_return problem(404, "no such route", "", instance, request_id, ver);
    if (method != http::verb::post) co_return not_allowed("POST");
    std::optional<SessionPrincipal> user;
    if (accept) {
      auto who = authenticate_session(req);
      if (!who) co_return problem(who.error(), instance, request_id, ver);
      user = std::move(who).value();
    }
    auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
    if (auto* err = std::get_if<BodyError>(&parsed))
      co_return problem(err->status, err->detail, "", instance, request_id, ver);
    static constexpr const char* kToken[] = {"token"};
    auto fields = string_fields(std::get<json::value>(parsed), kToken, false);
    if (!fields) co_return problem(fields.error(), instance, request_id, ver);
    auto ref = mail::check_account_token(vault_, "invitation", fields->text["token"], "org-");
    if (!ref) co_return problem(ref.error(), instance, request_id, ver);
    json::object body{{"invitation_id", ref->token_id}};
    Principal as;
    if (user) {
      body["user_id"] = user->user_id;
      as = Principal{false, ref->user_id, "", {}, user->user_id, user->impersonator};
    }
    req.set(http::field::content_type, "application/json");
    req.body() = json::serialize(body);
    const std::string name = accept ? "organization.accept_invitation" : "organization.decline_invitation";
    co_return co_await command(req, request_id, name, ref->user_id, user ? &as : nullptr);
  }

  // /v1/me/organizations: from the user's own subject index, so it is never behind.
  if (seg[1] == "me") {
    route_name = "me.organizations";
    if (method != http::verb::get) co_return not_allowed("GET");
    auto who = authenticate_session(req);
    if (!who) co_return problem(who.error(), instance, request_id, ver);
    auto about = audit::events_about(log_, who->user_id);
    if (!about) co_return problem(about.error(), instance, request_id, ver);
    // The organizations whose events name the user; the role is the organization's own state's.
    std::set<std::string> orgs;
    for (const Event& e : *about)
      if (e.type.starts_with("organization.")) orgs.insert(e.tenant);
    json::array list;
    for (const auto& org : orgs) {
      auto loaded = pipeline_.aggregates().load<OrganizationAggregate>(org);
      if (!loaded) co_return problem(loaded.error(), instance, request_id, ver);
      const std::string role = organization::role_of(loaded->state, who->user_id);
      if (role.empty()) continue;  // removed, or left
      list.push_back(json::object{{"org_id", org}, {"slug", loaded->state.slug}, {"name", loaded->state.name},
                                  {"role", role}});
    }
    co_return json_response(http::status::ok, json::serialize(json::object{{"organizations", std::move(list)}}), ver);
  }

  // /v1/organizations/{org}/...: named before the credentials are checked, so a denial names its route.
  if (seg[3] == "members")
    route_name = seg.size() == 4 ? "organizations.members"
                 : seg.size() == 5 ? "organizations.remove_member"
                                   : "organizations.change_role";
  else if (seg[3] == "invitations")
    route_name = seg.size() == 4 ? "organizations.invite" : "organizations.revoke_invitation";
  else
    route_name = "organizations.transfer_ownership";
  const std::string& org = seg[2];
  auto who = authenticate(req, org);
  if (!who) co_return problem(who.error(), instance, request_id, ver);
  auto missing = [&] { return problem(404, "no such organization", "", instance, request_id, ver); };
  if (!who->admin && who->tenant != org) co_return tenant_denied(missing());
  auto forbidden = [&](const std::string& what) {
    return problem(403, fmt::format("the {} role may not {}", who->role, what), "", instance, request_id, ver);
  };

  if (seg[3] == "members" && seg.size() == 4) {
    if (method != http::verb::get) co_return not_allowed("GET");
    auto loaded = pipeline_.aggregates().load<OrganizationAggregate>(org);
    if (!loaded) co_return problem(loaded.error(), instance, request_id, ver);
    const auto& s = loaded->state;
    if (!s.exists) co_return missing();
    json::array members;
    for (const auto& [user, m] : s.members)
      members.push_back(json::object{{"user_id", user}, {"role", m.role}, {"joined_at", rfc3339_us(m.joined_at_us)}});
    json::object out{{"org_id", org}, {"owner_user_id", s.owner_user_id}, {"members", std::move(members)}};
    const std::int64_t now = pipeline_.clock().now_us();
    if (manager(*who)) {
      json::array pending;
      for (const auto& [id, inv] : s.invitations)
        if (inv.expires_at_us > now)
          pending.push_back(json::object{{"invitation_id", id}, {"role", inv.role},
                                         {"expires_at", rfc3339_us(inv.expires_at_us)}, {"invited_by", inv.invited_by}});
      out["invitations"] = std::move(pending);
    }
    out["seats_taken"] = organization::seats_taken(s, now);
    co_return json_response(http::status::ok, json::serialize(out), ver);
  }
  if (seg[3] == "invitations" && seg.size() == 4) {
    if (method != http::verb::post) co_return not_allowed("POST");
    if (!manager(*who)) co_return forbidden("invite members");
    // Each invitation sends a mail: bounded per organization and per inviter.
    std::int64_t wait = invite_limit_->acquire("org:" + org);
    if (!wait) wait = invite_limit_->acquire("actor:" + actor_of(*who).id);
    if (wait) co_return too_many("too many invitations: try again later", wait, instance, request_id, ver);
    co_return co_await command(req, request_id, "organization.invite", org, &*who);
  }
  if (seg[3] == "invitations" && seg.size() == 5) {
    if (method != http::verb::delete_) co_return not_allowed("DELETE");
    if (!manager(*who)) co_return forbidden("revoke invitations");
    if (!is_lower_hex(seg[4]) || seg[4].size() != 32) co_return problem(404, "no such pending invitation", "", instance, request_id, ver);
    if (auto bad = set_body_field(req, request_id, "invitation_id", seg[4], "invitation_id is given by the path", true))
      co_return std::move(*bad);
    co_return co_await command(req, request_id, "organization.revoke_invitation", org, &*who);
  }
  if (seg[3] == "members" && (seg.size() == 5 || (seg.size() == 6 && seg[5] == "role"))) {
    const std::string& user = seg[4];
    if (!is_id(user, "user")) co_return problem(404, "no such member", "", instance, request_id, ver);
    if (seg.size() == 6) {
      if (method != http::verb::put) co_return not_allowed("PUT");
      if (!manager(*who)) co_return forbidden("change roles");
      if (auto bad = set_body_field(req, request_id, "user_id", user, "user_id is given by the path", true))
        co_return std::move(*bad);
      co_return co_await command(req, request_id, "organization.change_role", org, &*who);
    }
    if (method != http::verb::delete_) co_return not_allowed("DELETE");
    const bool leaving = !who->user_id.empty() && who->user_id == user;
    if (!leaving && !manager(*who)) co_return forbidden("remove members");
    if (!req.body().empty() && req.body() != "{}")
      co_return problem(Error::invalid("this route takes no body: the path names the member", ""), instance,
                        request_id, ver);
    json::object body{{"user_id", user}};
    if (leaving) body["left"] = true;
    req.set(http::field::content_type, "application/json");
    req.body() = json::serialize(body);
    co_return co_await command(req, request_id, "organization.remove_member", org, &*who);
  }
  if (seg[3] == "ownership-transfer" && seg.size() == 4) {
    if (method != http::verb::post) co_return not_allowed("POST");
    // A person's decision: the owner signed in, or the operator; never a machine key.
    if (!who->admin && (who->role != "owner" || who->user_id.empty()))
      co_return problem(403, "only the owner, signed in, or the operator transfers the ownership", "", instance,
                        request_id, ver);
    co_return co_await command(req, request_id, "organization.transfer_ownership", org, &*who);
  }
  co_return problem(404, "no such route", "", instance, request_id, ver);
}

}  // namespace causeway::api
