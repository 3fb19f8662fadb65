#include <doctest/doctest.h>

#include "events/cidr.h"
#include "api/node_fixture.h"

using namespace causeway;
using namespace causeway::testing;
namespace http = boost::beast::http;

TEST_CASE("healthz answers with the log position") {
  NodeFixture f;
  auto r = f.http->get("/healthz");
  CHECK(r.status == 200);
  CHECK(r.json().at("status").as_string() == "ok");
  CHECK(r.json().at("position").as_string() == "0");
}

TEST_CASE("signup over HTTP returns 201 with the position in the body and the header") {
  NodeFixture f;
  auto r = f.http->post("/v1/users", R"({"email":"a@b.co","display_name":"A","password":"a long password"})");
  CHECK(r.status == 201);
  CHECK(r.header("causeway-position") == "1");
  CHECK(r.json().at("position").as_string() == "1");
  CHECK(std::string(r.json().at("user_id").as_string()).rfind("user-", 0) == 0);
  CHECK_FALSE(r.header("x-request-id").empty());
}

TEST_CASE("a taken email is a 409 problem pointing at /email") {
  NodeFixture f;
  f.signup("a@b.co");
  auto r = f.http->post("/v1/users", R"({"email":"a@b.co","display_name":"B","password":"a long password"})");
  auto p = problem_of(r, 409);
  CHECK(pointer_of(p) == "/email");
  CHECK(f.head() == "1");
}

TEST_CASE("a taken slug is a 409 problem pointing at /slug") {
  NodeFixture f;
  auto owner = f.signup("a@b.co");
  CHECK(f.create_org(owner, "acme").status == 201);
  auto p = problem_of(f.create_org(owner, "acme"), 409);
  CHECK(pointer_of(p) == "/slug");
  CHECK(f.head() == "2");
}

TEST_CASE("Idempotency-Key over HTTP replays the original response with a replay marker") {
  NodeFixture f;
  auto owner = f.signup("a@b.co");
  auto first = f.create_org(owner, "acme", {{"Idempotency-Key", "create-acme-1"}});
  REQUIRE(first.status == 201);
  auto again = f.create_org(owner, "acme", {{"Idempotency-Key", "create-acme-1"}});
  CHECK(again.status == 201);
  CHECK(again.body == first.body);
  CHECK(again.header("idempotent-replayed") == "true");
  CHECK(again.header("causeway-position") == first.header("causeway-position"));
  CHECK(f.head() == "2");
  auto changed = f.create_org(owner, "other", {{"Idempotency-Key", "create-acme-1"}});
  problem_of(changed, 422);
  CHECK(f.head() == "2");
}

TEST_CASE("If-Match pins the version: a stale one is 409 and nothing is written") {
  NodeFixture f;
  auto org = std::string(f.create_org(f.signup("a@b.co"), "acme").json().at("org_id").as_string());
  auto ok = f.http->request(http::verb::patch, "/v1/organizations/" + org, R"({"name":"One"})",
                            {{"If-Match", "\"1\""}, {"Authorization", "Bearer " + f.node->admin_token()}});
  CHECK(ok.status == 200);
  CHECK(ok.json().at("stream_version").as_int64() == 2);
  auto stale = f.http->request(http::verb::patch, "/v1/organizations/" + org, R"({"name":"Two"})",
                               {{"If-Match", "1"}, {"Authorization", "Bearer " + f.node->admin_token()}});
  problem_of(stale, 409);
  CHECK(f.head() == "3");
}

TEST_CASE("renaming an unknown organization is 404") {
  NodeFixture f;
  auto r = f.http->request(http::verb::patch, "/v1/organizations/org-0123456789abcdef0123456789abcdef",
                           R"({"name":"x"})", {{"Authorization", "Bearer " + f.node->admin_token()}});
  problem_of(r, 404);
}

TEST_CASE("the admin stream read needs the admin token and shows decrypted events") {
  NodeFixture f;
  auto user = f.signup("ann@example.com");
  auto denied = f.http->get("/v1/admin/streams/" + user + "/events");
  problem_of(denied, 401);
  CHECK(denied.header("www-authenticate") == "Bearer");
  auto wrong = f.http->get("/v1/admin/streams/" + user + "/events", {{"Authorization", "Bearer nope"}});
  problem_of(wrong, 401);
  auto r = f.http->get("/v1/admin/streams/" + user + "/events",
                       {{"Authorization", "Bearer " + f.node->admin_token()}});
  REQUIRE(r.status == 200);
  auto events = r.json().at("events").as_array();
  REQUIRE(events.size() == 1);
  auto e = events[0].as_object();
  CHECK(e.at("specversion").as_string() == "1.0");
  CHECK(e.at("type").as_string() == "user.signed_up");
  CHECK(e.at("data").at("email").as_string() == "ann@example.com");
  CHECK(e.at("streamversion").to_number<std::uint64_t>() == 1);
}

TEST_CASE("after a subject's key is destroyed the admin read shows the fields as erased") {
  NodeFixture f;
  auto user = f.signup("ann@example.com");
  REQUIRE(f.node->vault().forget(user).ok());
  auto r = f.http->get("/v1/admin/streams/" + user + "/events",
                       {{"Authorization", "Bearer " + f.node->admin_token()}});
  REQUIRE(r.status == 200);
  CHECK(r.json().at("events").at(0).at("data").at("email").as_string() == "[erased]");
  CHECK(r.body.find("ann@example.com") == std::string::npos);
}

TEST_CASE("unknown routes are 404 and wrong methods 405, both problem+json") {
  NodeFixture f;
  problem_of(f.http->get("/v1/nothing"), 404);
  auto r = f.http->get("/v1/users");
  problem_of(r, 405);
  CHECK(r.header("allow") == "POST");
}

TEST_CASE("stopping the node lets a started command finish and keeps it durable") {
  TempDir dir;
  std::string user;
  {
    ServerConfig cfg;
    cfg.data_dir = dir.str();
    cfg.port = 0;
    cfg.password = {1, 8192};
    auto node = std::move(Node::open(cfg)).value();
    HttpClient c(node->port());
    auto r = c.post("/v1/users", R"({"email":"a@b.co","display_name":"A","password":"a long password"})");
    REQUIRE(r.status == 201);
    user = std::string(r.json().at("user_id").as_string());
    node->stop();
  }
  ServerConfig cfg;
  cfg.data_dir = dir.str();
  cfg.port = 0;
  auto node = std::move(Node::open(cfg)).value();
  CHECK(node->log().head().str() == "1");
  CHECK(*node->log().stream_version(user) == 1);
}

TEST_CASE("a retried rename with its Idempotency-Key replays even though its If-Match is now stale") {
  NodeFixture f;
  auto org = std::string(f.create_org(f.signup("a@b.co"), "acme").json().at("org_id").as_string());
  std::map<std::string, std::string> h{
      {"If-Match", "1"}, {"Idempotency-Key", "rename-1"}, {"Authorization", "Bearer " + f.node->admin_token()}};
  auto first = f.http->request(http::verb::patch, "/v1/organizations/" + org, R"({"name":"One"})", h);
  REQUIRE(first.status == 200);
  auto retry = f.http->request(http::verb::patch, "/v1/organizations/" + org, R"({"name":"One"})", h);
  CHECK(retry.status == 200);
  CHECK(retry.body == first.body);
  CHECK(retry.header("idempotent-replayed") == "true");
  CHECK(f.head() == "3");
}

TEST_CASE("every response carries the security headers, errors included") {
  NodeFixture f;
  for (const auto& r : {f.http->get("/healthz"), f.http->get("/v1/nowhere")}) {
    CHECK(r.header("x-content-type-options") == "nosniff");
    CHECK(r.header("content-security-policy") == "default-src 'none'; frame-ancestors 'none'");
    CHECK(r.header("x-frame-options") == "DENY");
    CHECK(r.header("referrer-policy") == "no-referrer");
    CHECK(r.header("cache-control") == "no-store");
  }
}

TEST_CASE("admin routes and the admin token are refused from an address outside the allowlist") {
  NodeFixture f([](ServerConfig& cfg) { cfg.admin_allow = "10.0.0.0/8, fd00::/8"; });
  const std::map<std::string, std::string> admin{{"Authorization", "Bearer " + f.node->admin_token()}};
  auto r = f.http->post("/v1/admin/dsr", R"({"subject":"user-00000000000000000000000000000000","kind":"access"})",
                        admin);
  CHECK(problem_of(r, 403).at("detail").as_string().starts_with("admin routes are not allowed"));
  // The token alone does not make an operator either: the views want credentials.
  problem_of(f.http->get("/v1/views/users", admin), 401);
  // A client cannot claim another address.
  auto spoofed = admin;
  spoofed["Causeway-Peer"] = "10.1.2.3";
  problem_of(f.http->get("/v1/views/users", spoofed), 401);
}

TEST_CASE("the admin allowlist accepts IPv4, IPv6 and IPv4-mapped peers, and refuses a malformed list at start") {
  auto list = CidrList::parse("127.0.0.0/8, ::1/128, 192.168.1.0/24");
  REQUIRE(list.ok());
  CHECK(list->allows("127.0.0.1"));
  CHECK(list->allows("::1"));
  CHECK(list->allows("::ffff:192.168.1.7"));
  CHECK_FALSE(list->allows("192.168.2.1"));
  CHECK_FALSE(list->allows("not an address"));
  CHECK(CidrList::parse("").value().allows("8.8.8.8"));
  CHECK_FALSE(CidrList::parse("10.0.0.0/33").ok());
  CHECK_FALSE(CidrList::parse_or_deny("garbage").allows("127.0.0.1"));
  TempDir dir;
  ServerConfig cfg;
  cfg.data_dir = dir.str();
  cfg.port = 0;
  cfg.admin_allow = "localhost";
  auto n = Node::open(cfg);
  REQUIRE_FALSE(n.ok());
  CHECK(n.error().message.find("--admin-allow") != std::string::npos);
}
