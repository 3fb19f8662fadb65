// An organization's own API keys, managed by its owners and admins (with a
// session acting in the organization, or an owner or admin key) as the
// operator manages them under /v1/admin:
//
//   GET    /v1/organizations/{org}/api-keys          the api_keys view of the organization
//   POST   /v1/organizations/{org}/api-keys          {name, role} -> 201 with the token, shown once
//   DELETE /v1/organizations/{org}/api-keys/{key}    -> 200 revoked
//
// Nobody grants more than they hold: an admin creates and revokes keys of
// every role but owner. Another organization's API key is told nothing
// exists (404), and the denial is recorded; a session of someone who is not a
// member is refused as for an organization that does not exist (403).
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>

#include "api/json_body.h"
#include "api/routes.h"
#include "engine/commands/traits.h"
#include "engine/ids.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

namespace {

// Whether a caller of role `caller` may create or revoke a key of role `role`.
bool may_manage(const std::string& caller, const std::string& role) {
  if (caller == "owner") return true;
  return caller == "admin" && role != "owner";
}

}  // namespace

awaitable<Response> Api::org_key_route(Request& req, const std::string& request_id,
                                       const std::vector<std::string>& seg, std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  const auto method = req.method();
  const std::string& org = seg[2];
  const bool one_key = seg.size() == 5;
  route_name = one_key ? "organizations.api_keys.revoke"
               : method == http::verb::post ? "organizations.api_keys.create"
                                            : "organizations.api_keys.list";
  if (one_key ? method != http::verb::delete_ : method != http::verb::get && method != http::verb::post)
    co_return method_not_allowed(one_key ? "DELETE" : "GET, POST", instance, request_id, ver);
  auto who = authenticate(req, org);
  if (!who) co_return problem(who.error(), instance, request_id, ver);
  auto missing = [&](const char* what) { return problem(404, what, "", instance, request_id, ver); };
  if (!who->admin && who->tenant != org) co_return tenant_denied(missing("no such organization"));
  if (!who->admin && who->role != "owner" && who->role != "admin")
    co_return problem(403, fmt::format("the {} role may not manage API keys", who->role), "", instance, request_id,
                      ver);
  const std::string caller_role = who->admin ? "owner" : who->role;
  const Principal* as = who->admin ? nullptr : &*who;

  if (method == http::verb::get) {
    auto url = boost::urls::parse_origin_form(req.target());
    if (!url) co_return problem(400, "the request target is not a valid URL", "", instance, request_id, ver);
    co_return co_await read_view(req, request_id, "api_keys", *url, org);
  }
  if (method == http::verb::post) {
    if (req.find("Idempotency-Key") != req.end())
      co_return problem(400, "API key creation takes no Idempotency-Key: the token is shown once and never stored", "",
                        instance, request_id, ver);
    boost::system::error_code ec;
    auto body = json::parse(req.body(), ec);
    const auto* role = !ec && body.is_object() ? body.as_object().if_contains("role") : nullptr;
    if (role && role->is_string() && !may_manage(caller_role, std::string(role->as_string())))
      co_return problem(Error{Errc::forbidden,
                              fmt::format("the {} role may not create a key of role {}", caller_role,
                                          std::string(role->as_string())),
                              "/role"},
                        instance, request_id, ver);
    co_return co_await command(req, request_id, "api_key.create", org, as);
  }
  const std::string& key_id = seg[4];
  if (!is_id(key_id, "key")) co_return missing("no such API key");
  auto key = pipeline_.aggregates().load<ApiKeyAggregate>(key_id);
  if (!key) co_return problem(key.error(), instance, request_id, ver);
  if (!key->state.exists) co_return missing("no such API key");
  if (key->state.org_id != org) co_return tenant_denied(missing("no such API key"));
  if (!may_manage(caller_role, key->state.role))
    co_return problem(403, fmt::format("the {} role may not revoke a key of role {}", caller_role, key->state.role),
                      "", instance, request_id, ver);
  req.set(http::field::content_type, "application/json");
  req.body() = "{}";
  co_return co_await command(req, request_id, "api_key.revoke", key_id, as);
}

}  // namespace causeway::api
