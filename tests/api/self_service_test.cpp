// What an organization's people do for themselves, on a real server: their
// own API keys (created, listed and revoked by owners and admins with a
// session, never beyond their own role, never another organization's), their
// account (GET /v1/me), the organization with the version If-Match takes,
// and the API's own description (GET /v1/openapi.json).
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "api/node_fixture.h"
#include <fstream>
#include <sstream>

#include "support/eventually.h"
#include "support/files.h"
#include "support/paths.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

struct Org {
  std::string id, owner_session;
};

Org make_org(NodeFixture& f, const std::string& slug) {
  const std::string email = "owner-" + slug + "@example.com";
  const std::string owner = f.signup(email);
  auto r = f.create_org(owner, slug);
  REQUIRE(r.status == 201);
  return {str(r.json().at("org_id")), f.login(email)};
}

std::map<std::string, std::string> bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

}  // namespace

TEST_CASE("an owner creates, lists and revokes the organization's API keys with a session; the key works until "
          "revoked") {
  NodeFixture f;
  Org a = make_org(f, "acme");
  const std::string keys = "/v1/organizations/" + a.id + "/api-keys";
  auto made = f.http->post(keys, R"({"name":"reports","role":"analyst"})", bearer(a.owner_session));
  CAPTURE(made.body);
  REQUIRE(made.status == 201);
  const std::string key_id = str(made.json().at("key_id"));
  const std::string token = str(made.json().at("token"));
  CHECK(f.http->get("/v1/views/organizations", bearer(token)).status == 200);

  auto listed = f.http->get(keys + "?position=" + f.head(), bearer(a.owner_session));
  CAPTURE(listed.body);
  REQUIRE(listed.status == 200);
  CHECK(listed.body.find(key_id) != std::string::npos);
  CHECK(listed.body.find("reports") != std::string::npos);

  // Idempotency-Key is refused: the token would be stored with the reply.
  problem_of(f.http->post(keys, R"({"name":"x","role":"member"})",
                          {{"Authorization", "Bearer " + a.owner_session}, {"Idempotency-Key", "k1"}}),
             400);
  auto revoked = f.http->request(http::verb::delete_, keys + "/" + key_id, {}, bearer(a.owner_session), {});
  CAPTURE(revoked.body);
  REQUIRE(revoked.status == 200);
  CHECK(f.http->get("/v1/views/organizations", bearer(token)).status == 401);
  // The token is shown once and kept nowhere: no file of the data folder (log, WAL, SST, views) holds it.
  CHECK(files_containing(f.dir.str(), token).empty());
  CHECK(files_containing(f.dir.str(), token.substr(4)).empty());
}

TEST_CASE("nobody manages keys beyond their role, and another organization's keys are not there for them") {
  NodeFixture f;
  Org a = make_org(f, "acme");
  Org b = make_org(f, "globex");
  const std::string a_keys = "/v1/organizations/" + a.id + "/api-keys";
  auto admin_key = f.http->post(a_keys, R"({"name":"ops","role":"admin"})", bearer(a.owner_session));
  REQUIRE(admin_key.status == 201);
  const std::string admin = str(admin_key.json().at("token"));
  auto owner_key = f.http->post(a_keys, R"({"name":"root","role":"owner"})", bearer(a.owner_session));
  REQUIRE(owner_key.status == 201);
  auto member_key = f.http->post(a_keys, R"({"name":"app","role":"member"})", bearer(a.owner_session));
  REQUIRE(member_key.status == 201);

  // An admin creates a member key, not an owner key, and cannot revoke the owner's key.
  CHECK(f.http->post(a_keys, R"({"name":"app2","role":"member"})", bearer(admin)).status == 201);
  const auto before = f.position();
  auto escalate = problem_of(f.http->post(a_keys, R"({"name":"mine","role":"owner"})", bearer(admin)), 403);
  CHECK(pointer_of(escalate) == "/role");
  problem_of(f.http->request(http::verb::delete_, a_keys + "/" + str(owner_key.json().at("key_id")), {}, bearer(admin),
                             {}),
             403);
  // A member manages no keys at all.
  problem_of(f.http->get(a_keys, bearer(str(member_key.json().at("token")))), 403);
  CHECK(f.domain_writes_since(before).empty());

  // B's owner: A's organization answers as one that does not exist (a
  // session is not a member of either), and A's keys are not there by key id.
  const std::string b_keys = "/v1/organizations/" + b.id + "/api-keys";
  const std::string nowhere = "/v1/organizations/org-00000000000000000000000000000000/api-keys";
  auto absent = problem_of(f.http->get(nowhere, bearer(b.owner_session)), 403);
  CHECK(problem_of(f.http->get(a_keys, bearer(b.owner_session)), 403).at("detail") == absent.at("detail"));
  CHECK(problem_of(f.http->post(a_keys, R"({"name":"x","role":"member"})", bearer(b.owner_session)), 403)
            .at("detail") == absent.at("detail"));
  problem_of(f.http->request(http::verb::delete_, b_keys + "/" + str(member_key.json().at("key_id")), {},
                             bearer(b.owner_session), {}),
             404);
  auto b_list = f.http->get(b_keys + "?position=" + f.head(), bearer(b.owner_session));
  REQUIRE(b_list.status == 200);
  CHECK(b_list.json().at("rows").as_array().empty());
  CHECK(f.domain_writes_since(before).empty());
}

TEST_CASE("GET /v1/me shows the signed-in account, and GET /v1/organizations/{id} its state with the version "
          "If-Match takes") {
  NodeFixture f;
  Org a = make_org(f, "acme");
  auto me = f.http->get("/v1/me", bearer(a.owner_session));
  CAPTURE(me.body);
  REQUIRE(me.status == 200);
  CHECK(str(me.json().at("email")) == "owner-acme@example.com");
  CHECK_FALSE(me.json().at("email_verified").as_bool());
  problem_of(f.http->get("/v1/me"), 401);

  auto org = f.http->get("/v1/organizations/" + a.id, bearer(a.owner_session));
  CAPTURE(org.body);
  REQUIRE(org.status == 200);
  const auto version = org.json().at("stream_version").as_int64();
  CHECK(org.header("etag") == "\"" + std::to_string(version) + "\"");
  CHECK(org.json().at("members").as_array().size() == 1);
  auto stale = f.http->request(http::verb::patch, "/v1/organizations/" + a.id, R"({"name":"Acme Inc"})",
                               {{"Authorization", "Bearer " + a.owner_session},
                                {"If-Match", "\"" + std::to_string(version + 1) + "\""},
                                {"Content-Type", "application/json"}},
                               {});
  problem_of(stale, 409);
  auto renamed = f.http->request(http::verb::patch, "/v1/organizations/" + a.id, R"({"name":"Acme Inc"})",
                                 {{"Authorization", "Bearer " + a.owner_session},
                                  {"If-Match", org.header("etag")},
                                  {"Content-Type", "application/json"}},
                                 {});
  CHECK(renamed.status == 200);
  Org b = make_org(f, "globex");
  // Another organization's session: the same answer as for no organization at all.
  auto theirs = problem_of(f.http->get("/v1/organizations/" + a.id, bearer(b.owner_session)), 403);
  auto none = problem_of(f.http->get("/v1/organizations/org-00000000000000000000000000000000", bearer(b.owner_session)),
                         403);
  CHECK(theirs.at("detail") == none.at("detail"));
}

TEST_CASE("the OpenAPI document is served as JSON at /v1/openapi.json, without credentials") {
  NodeFixture f;
  auto r = f.http->get("/v1/openapi.json");
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type").find("application/json") == 0);
  auto doc = json::parse(r.body).as_object();
  CHECK(doc.at("openapi").as_string().starts_with("3.1"));
  CHECK(doc.at("paths").as_object().contains("/v1/openapi.json"));
  CHECK(doc.at("paths").as_object().contains("/v1/organizations/{org_id}/api-keys"));
}

TEST_CASE("the OpenAPI document is served at /v1/openapi.yaml byte for byte as schemas/openapi.yaml, without credentials") {
  NodeFixture f;
  auto r = f.http->get("/v1/openapi.yaml");
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "application/yaml");
  std::ifstream in(source_dir() + "/schemas/openapi.yaml", std::ios::binary);
  std::stringstream file;
  file << in.rdbuf();
  REQUIRE(!file.str().empty());
  CHECK(r.body == file.str());
  CHECK(f.http->post("/v1/openapi.yaml", "{}").status == 405);
}

TEST_CASE("/readyz answers ready once the views have applied the log's head at start-up, after a restart too") {
  TempDir data;
  std::string head;
  {
    auto node = open_node(data);
    HttpClient http(node->port());
    for (int i = 0; i < 3; ++i)
      REQUIRE(http.post("/v1/users", R"({"email":"u)" + std::to_string(i) +
                                         R"(@example.com","display_name":"U","password":"a long password"})")
                  .status == 201);
    head = node->log().head().str();
  }
  auto node = open_node(data);
  HttpClient http(node->port());
  HttpResult ready;
  eventually([&] { return (ready = http.get("/readyz")).status == 200; }, std::chrono::seconds(20),
             "/readyz answering 200");
  CHECK(str(ready.json().at("startup_position")) == head);
  CHECK(node->views().applied().covers(PositionToken::parse(head).value()));
  CHECK(http.post("/readyz", "{}").status == 405);
}
