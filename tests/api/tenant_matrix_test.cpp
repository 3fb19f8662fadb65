// Tenant isolation as one matrix over every route that names a tenant's
// resource: organization A's organization, subscription, flags, members,
// invitations, workflow, versions, runs and their events, against the
// credentials of organization B in each form (an owner API key, an analyst
// API key, an owner's session naming B). Every call is refused without
// telling A's resources exist (404, or 403 for a role), A's streams are not
// written, and every refusal is recorded as access.denied in B. The
// collection routes (views, SQL, the audit export, the workflow catalogue)
// show B's credentials none of A's rows.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "api/node_fixture.h"
#include "support/route_calls.h"
#include "support/workflows.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

struct Tenant {
  std::string owner, org, owner_key, analyst_key, access;
};

Tenant tenant(NodeFixture& f, const std::string& name) {
  const Headers admin{{"Authorization", "Bearer " + f.node->admin_token()}};
  Tenant t;
  const std::string email = name + "@example.com";
  t.owner = f.signup(email);
  auto org = f.create_org(t.owner, name);
  REQUIRE(org.status == 201);
  t.org = str(org.json().at("org_id"));
  for (auto [role, out] : {std::pair{"owner", &t.owner_key}, std::pair{"analyst", &t.analyst_key}}) {
    auto k = f.http->post("/v1/admin/organizations/" + t.org + "/api-keys",
                          std::string(R"({"name":"k","role":")") + role + R"("})", admin);
    REQUIRE(k.status == 201);
    *out = str(k.json().at("token"));
  }
  t.access = f.login(email);
  return t;
}

}  // namespace

TEST_CASE("tenant matrix: no credential of organization B reads, changes or learns of any resource of A") {
  NodeFixture f;
  const Tenant a = tenant(f, "tenant-a"), b = tenant(f, "tenant-b");
  const Headers a_owner{{"Authorization", "Bearer " + a.owner_key}};
  // A's resources: a published workflow with a run, and a pending invitation.
  auto wf = f.http->post("/v1/workflows", R"({"name":"w","definition":)" + manual_workflow() + "}", a_owner);
  REQUIRE(wf.status == 201);
  const std::string workflow = str(wf.json().at("workflow_id"));
  REQUIRE(f.http->post("/v1/workflows/" + workflow + "/versions", "", a_owner).status == 200);
  auto run = f.http->post("/v1/workflows/" + workflow + "/runs", R"({"input":{}})", a_owner);
  REQUIRE(run.status == 201);
  const std::string run_id = str(run.json().at("run_id"));
  auto inv = f.http->post("/v1/organizations/" + a.org + "/invitations", R"({"email":"x@example.com","role":"member"})",
                          a_owner);
  REQUIRE(inv.status == 201);
  const std::string invitation = str(inv.json().at("invitation_id"));

  const std::string o = "/v1/organizations/" + a.org, w = "/v1/workflows/" + workflow, r = "/v1/runs/" + run_id;
  std::vector<RouteCall> calls = subscription_calls(o);
  const std::vector<RouteCall> more = {
      {http::verb::get, o, ""},
      {http::verb::patch, o, R"({"name":"Taken"})"},
      {http::verb::get, o + "/api-keys", ""},
      {http::verb::post, o + "/api-keys", R"({"name":"mine","role":"owner"})"},
      {http::verb::delete_, o + "/api-keys/key-" + a.analyst_key.substr(4, 32), ""},
      {http::verb::get, o + "/members", ""},
      {http::verb::post, o + "/invitations", R"({"email":"y@example.com","role":"admin"})"},
      {http::verb::delete_, o + "/invitations/" + invitation, ""},
      {http::verb::put, o + "/members/" + a.owner + "/role", R"({"role":"member"})"},
      {http::verb::delete_, o + "/members/" + a.owner, ""},
      {http::verb::post, o + "/ownership-transfer", R"({"user_id":")" + b.owner + R"("})"},
      {http::verb::get, w, ""},
      {http::verb::put, w + "/draft", R"({"name":"x","definition":)" + manual_workflow() + "}"},
      {http::verb::post, w + "/versions", ""},
      {http::verb::get, w + "/versions/1", ""},
      {http::verb::post, w + "/archive", R"({"reason":"mine now"})"},
      {http::verb::put, w + "/sharing", R"({"public":true})"},
      {http::verb::post, w + "/runs", R"({"input":{}})"},
      {http::verb::post, w + "/dry-runs", R"({"input":{}})"},
      {http::verb::get, r, ""},
      {http::verb::get, r + "/events", ""},
      {http::verb::post, r + "/cancellation", R"({"reason":"mine now"})"},
  };
  calls.insert(calls.end(), more.begin(), more.end());
  const std::vector<std::pair<std::string, Headers>> intruders = {
      {"B's owner key", {{"Authorization", "Bearer " + b.owner_key}}},
      {"B's analyst key", {{"Authorization", "Bearer " + b.analyst_key}}},
      {"B's owner session", {{"Authorization", "Bearer " + b.access}, {"Causeway-Organization", b.org}}},
  };
  const std::uint64_t before = f.position();
  std::size_t refused = 0;
  for (const auto& [who, h] : intruders) {
    for (const auto& c : calls) {
      CAPTURE(who);
      CAPTURE(c.path);
      auto res = f.http->request(c.verb, c.path, c.body, h);
      CAPTURE(res.body);
      CHECK((res.status == 404 || res.status == 403));
      CHECK(res.body.find("tenant-a") == std::string::npos);  // nothing of A in the answer
      CHECK(res.body.find("Acme") == std::string::npos);
      ++refused;
    }
  }
  // Nothing but the denial records was written, and each refusal is one, in B.
  CHECK(f.domain_writes_since(before).empty());
  auto denied = f.node->log().read_forward(0, before + 1, 100'000);
  REQUIRE(denied.ok());
  std::size_t in_b = 0;
  for (const auto& e : *denied) in_b += e.type == "access.denied" && e.stream == "access-denied-" + b.org;
  CHECK(in_b == refused);

  // The collection routes show B nothing of A.
  const std::string head = f.head();
  for (const auto& [who, h] : intruders) {
    CAPTURE(who);
    for (const char* view : {"organizations", "memberships", "users", "api_keys", "usage", "workflows",
                             "workflow_versions", "workflow_runs", "workflow_steps"}) {
      CAPTURE(view);
      auto res = f.http->get(std::string("/v1/views/") + view + "?position=" + head, h);
      CHECK((res.status == 200 || res.status == 403));
      CHECK(res.body.find(a.org) == std::string::npos);
      CHECK(res.body.find(workflow) == std::string::npos);
      CHECK(res.body.find(a.owner) == std::string::npos);
    }
    auto list = f.http->get("/v1/me/organizations", {{"Authorization", "Bearer " + b.access}});
    CHECK(list.body.find(a.org) == std::string::npos);
  }
  auto sql = f.http->post("/v1/query", R"({"sql":"select * from organizations"})",
                          {{"Authorization", "Bearer " + b.analyst_key}});
  CHECK(sql.status == 200);
  CHECK(sql.body.find(b.org) != std::string::npos);  // B sees itself...
  CHECK(sql.body.find(a.org) == std::string::npos);  // ...and not A
  auto audit = f.http->get("/v1/audit/export?reason=review", {{"Authorization", "Bearer " + b.owner_key}});
  CHECK(audit.status == 200);
  CHECK(audit.body.find(b.org) != std::string::npos);
  CHECK(audit.body.find(a.org) == std::string::npos);
}
