// The audit routes over HTTP: who may export, what an export records, and that
// what the server hands out verifies offline with the published key.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <sstream>

#include "api/node_fixture.h"
#include "engine/audit/verify_export.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;

namespace {

struct AuditFixture : NodeFixture {
  std::map<std::string, std::string> admin() { return {{"Authorization", "Bearer " + node->admin_token()}}; }

  std::string org(const std::string& owner, const std::string& slug) {
    auto r = create_org(owner, slug);
    REQUIRE(r.status == 201);
    return std::string(r.json().at("org_id").as_string());
  }
  std::string key(const std::string& org_id, const std::string& role) {
    auto r = http->post("/v1/admin/organizations/" + org_id + "/api-keys", R"({"name":"k","role":")" + role + R"("})",
                        admin());
    REQUIRE(r.status == 201);
    return std::string(r.json().at("token").as_string());
  }
  audit::PublicKey public_key() {
    auto r = http->get("/v1/audit/public-key");
    REQUIRE(r.status == 200);
    auto k = audit::parse_public_key(std::string(r.json().at("public_key").as_string()));
    REQUIRE(k.ok());
    return *k;
  }
};

audit::AuditReport verify_body(const std::string& body, const audit::PublicKey& key) {
  std::istringstream in(body);
  return audit::verify_export(in, key);
}

}  // namespace

TEST_CASE("an export from the API verifies offline with the published public key") {
  AuditFixture f;
  auto owner = f.signup("ann@example.com");
  f.org(owner, "acme");
  auto r = f.http->get("/v1/audit/export?reason=quarterly%20review", f.admin());
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "application/x-ndjson");
  auto report = verify_body(r.body, f.public_key());
  CAPTURE(report.problem.value_or(""));
  CHECK_FALSE(report.problem);
  CHECK(report.events == 3);  // signup, org, and the export's own read record
  CHECK(report.signed_to >= 3);
  CHECK(r.body.find("ann@example.com") != std::string::npos);  // personal fields opened for the officer
  CHECK(r.body.find("argon2id") == std::string::npos);         // secrets never
}

TEST_CASE("exporting the audit log is itself recorded, with who, what range and why") {
  AuditFixture f;
  auto owner = f.signup("ann@example.com");
  auto org = f.org(owner, "acme");
  auto token = f.key(org, "compliance_officer");
  auto r = f.http->get("/v1/audit/export?reason=DSAR%2042&from=1", {{"Authorization", "Bearer " + token}});
  REQUIRE(r.status == 200);
  auto later = f.http->get("/v1/audit/export?reason=check&type=audit.exported", f.admin());
  REQUIRE(later.status == 200);
  bool found = false;
  std::istringstream in(later.body);
  for (std::string line; std::getline(in, line);) {
    auto o = json::parse(line).as_object();
    auto* kind = o.if_contains("record");
    if (!kind || *kind != "event" || o.at("event").at("type") != "audit.exported") continue;
    auto& ev = o.at("event").as_object();
    if (ev.at("data").at("reason") != "DSAR 42") continue;
    found = true;
    CHECK(ev.at("actor").as_string().starts_with("key-"));
    CHECK(ev.at("tenant") == json::value(org));
    CHECK(ev.at("data").at("from") == 1);
  }
  CHECK(found);
}

TEST_CASE("reading the audit view or querying audit_index needs a reason and is recorded before any row is served") {
  AuditFixture f;
  auto owner = f.signup("ann@example.com");
  auto org = f.org(owner, "acme");
  const std::map<std::string, std::string> officer{{"Authorization", "Bearer " + f.key(org, "compliance_officer")}};
  const std::string head = f.head();

  // No reason: refused, and nothing is written.
  problem_of(f.http->get("/v1/views/audit?position=" + head, officer), 400);
  auto no_reason = f.http->post("/v1/query", R"({"sql":"select count(*) from audit_index"})", f.admin());
  CHECK(pointer_of(problem_of(no_reason, 422)) == "/reason");
  CHECK(f.head() == head);
  // A statement that does not read the audit log needs none and records nothing.
  REQUIRE(f.http->post("/v1/query", R"({"sql":"select count(*) from users"})", f.admin()).status == 200);
  CHECK(f.head() == head);

  auto view = f.http->get("/v1/views/audit?position=" + head + "&action=organization.created&reason=SOC%202%20sample",
                          officer);
  REQUIRE(view.status == 200);
  const std::string statement = "select action from audit_index where tenant = '" + org + "'";
  auto sql = f.http->post("/v1/query",
                          json::serialize(json::object{{"sql", statement}, {"reason", "incident 7"}}), f.admin());
  REQUIRE(sql.status == 200);

  auto events = f.http->get("/v1/admin/streams/audit-reads-" + org + "/events", f.admin());
  REQUIRE(events.status == 200);
  auto list = events.json().at("events").as_array();
  REQUIRE(list.size() == 1);
  auto& read = list[0].as_object();
  CHECK(read.at("type") == "audit.read");
  CHECK(read.at("actor").as_string().starts_with("key-"));
  CHECK(read.at("data").at("reason") == "SOC 2 sample");
  CHECK(read.at("data").at("via") == "view");
  CHECK(read.at("data").at("filters").at("action") == "organization.created");

  auto global = f.http->get("/v1/admin/streams/audit-reads-global/events", f.admin());
  REQUIRE(global.status == 200);
  auto g = global.json().at("events").as_array();
  REQUIRE(g.size() == 1);
  CHECK(g[0].at("data").at("via") == "sql");
  CHECK(g[0].at("data").at("reason") == "incident 7");
  CHECK(g[0].at("actor") == "admin");
  // Only the statement's hash is kept: its text may quote personal data.
  CHECK(global.body.find(statement) == std::string::npos);
  CHECK(g[0].at("data").at("statement_hash").as_string().size() == 64);
}

TEST_CASE("only owners and compliance officers export, and only their own organization") {
  AuditFixture f;
  auto a_owner = f.signup("a@example.com");
  auto b_owner = f.signup("b@example.com");
  auto a = f.org(a_owner, "org-a");
  auto b = f.org(b_owner, "org-b");
  for (const char* role : {"admin", "member", "analyst"}) {
    CAPTURE(role);
    auto r = f.http->get("/v1/audit/export?reason=x", {{"Authorization", "Bearer " + f.key(a, role)}});
    problem_of(r, 403);
  }
  auto officer = f.key(a, "compliance_officer");
  problem_of(f.http->get("/v1/audit/export?reason=x&tenant=" + b, {{"Authorization", "Bearer " + officer}}), 403);
  auto mine = f.http->get("/v1/audit/export?reason=x", {{"Authorization", "Bearer " + officer}});
  REQUIRE(mine.status == 200);
  // Org B's events are present only as chain links, never in full.
  CHECK(mine.body.find("\"org-b\"") == std::string::npos);
  CHECK(mine.body.find(b_owner + "\",\"type\"") == std::string::npos);
  CHECK_FALSE(verify_body(mine.body, f.public_key()).problem);
  auto owner_key = f.key(a, "owner");
  CHECK(f.http->get("/v1/audit/export?reason=x", {{"Authorization", "Bearer " + owner_key}}).status == 200);
  problem_of(f.http->get("/v1/audit/export?reason=x"), 401);
}

TEST_CASE("an export needs a reason and well-formed parameters, and a range the API can hold") {
  AuditFixture f;
  f.signup("ann@example.com");
  problem_of(f.http->get("/v1/audit/export", f.admin()), 400);
  problem_of(f.http->get("/v1/audit/export?reason=x&from=abc", f.admin()), 400);
  problem_of(f.http->get("/v1/audit/export?reason=x&since=yesterday", f.admin()), 400);
  problem_of(f.http->get("/v1/audit/export?reason=x&colour=blue", f.admin()), 400);
  // The embedded log has one partition: its chain is partition 0, and there is no partition 1.
  problem_of(f.http->get("/v1/audit/export?reason=x&partition=1", f.admin()), 400);
  problem_of(f.http->get("/v1/audit/export?reason=x&partition=-1", f.admin()), 400);
  auto zero = f.http->get("/v1/audit/export?reason=x&partition=0", f.admin());
  REQUIRE(zero.status == 200);
  CHECK(json::parse(zero.body.substr(0, zero.body.find('\n'))).at("partition").as_int64() == 0);
  NodeFixture small([](ServerConfig& c) { c.audit_export_max_positions = 2; });
  small.signup("a@example.com");
  small.signup("b@example.com");
  auto too_many = small.http->get("/v1/audit/export?reason=x",
                                  {{"Authorization", "Bearer " + small.node->admin_token()}});
  problem_of(too_many, 413);
  CHECK(f.http->post("/v1/audit/export?reason=x", "{}", f.admin()).status == 405);
}

TEST_CASE("a CSV export has one row per matching event with CloudEvents columns") {
  AuditFixture f;
  auto owner = f.signup("ann@example.com");
  f.org(owner, "acme");
  auto h = f.admin();
  h["Accept"] = "text/csv";
  auto r = f.http->get("/v1/audit/export?reason=x&type=organization.created", h);
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "text/csv; charset=utf-8");
  CHECK(r.body.starts_with("position,time,id,type,source,tenant,actor,impersonator,subjects,data\r\n"));
  CHECK(r.body.find("organization.created") != std::string::npos);
  CHECK(r.body.find("user.signed_up") == std::string::npos);
}

TEST_CASE("the server signs the chain after every N events without being asked") {
  NodeFixture small([](ServerConfig& c) { c.audit_checkpoint_events = 3; });
  std::string owner = small.signup("ann@example.com");
  for (int i = 0; i < 3; ++i) REQUIRE(small.create_org(owner, "s-" + std::to_string(i)).status == 201);
  // Four commands wrote positions 1-4; the checkpointer's own event comes after.
  auto waited = small.node->log().wait_past(0, 4, std::chrono::seconds(5));
  CHECK(waited >= 5);
  auto r = audit::verify_live(small.node->log(), small.node->signer().public_key());
  CHECK_FALSE(r.problem);
  CHECK(r.checkpoints >= 1);
  CHECK(r.signed_to >= 3);
}
