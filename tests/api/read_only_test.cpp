// serve --read-only (ServerConfig::read_only) on a real server over a data
// folder with work in progress: it serves reads (the audit log's included,
// without recording them in the copy), refuses every command with 503 without
// writing, and resumes none of the folder's work (a waiting run stays
// unresumed), while a normal start over the same folder does resume it.
#include <doctest/doctest.h>

#include "api/node_fixture.h"

using namespace causeway;
using namespace causeway::testing;

namespace {

std::unique_ptr<Node> open_on(const TempDir& data, bool read_only) {
  return open_node(data, [read_only](ServerConfig& cfg) { cfg.read_only = read_only; });
}
std::map<std::string, std::string> bearer(const std::string& t) { return {{"Authorization", "Bearer " + t}}; }

}  // namespace

TEST_CASE("a read-only server serves reads and audit exports, refuses every command with 503 without writing, and resumes no work") {
  TempDir data;
  std::string token, run_id, workflow_id;
  {
    auto node = open_on(data, false);
    HttpClient http(node->port());
    auto user = http.post("/v1/users", R"({"email":"ann@example.com","display_name":"Ann","password":"a long password"})");
    REQUIRE(user.status == 201);
    auto org = http.post("/v1/organizations",
                         R"({"slug":"acme","name":"Acme","owner_user_id":")" + str(user.json().at("user_id")) + R"("})",
                         bearer(node->admin_token()));
    REQUIRE(org.status == 201);
    auto key = http.post("/v1/admin/organizations/" + str(org.json().at("org_id")) + "/api-keys",
                         R"({"name":"k","role":"member"})", bearer(node->admin_token()));
    REQUIRE(key.status == 201);
    token = str(key.json().at("token"));
    auto wf = http.post("/v1/workflows", R"({"name":"slow","definition":{"format": 1, "name": "slow", "nodes": [
        {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
        {"id": "pause", "type": "delay", "duration_ms": 3600000},
        {"id": "done", "type": "end"}],
      "edges": [{"from": "start", "to": "pause"}, {"from": "pause", "to": "done"}]}})",
                        bearer(token));
    REQUIRE(wf.status == 201);
    const std::string id = str(wf.json().at("workflow_id"));
    workflow_id = id;
    REQUIRE(http.post("/v1/workflows/" + id + "/versions", "", bearer(token)).status == 200);
    auto run = http.post("/v1/workflows/" + id + "/runs", R"({"input":{}})", bearer(token));
    REQUIRE(run.status == 201);
    run_id = str(run.json().at("run_id"));
    // An export leaves a signed checkpoint in the log, where the copy's exports will end.
    REQUIRE(http.get("/v1/audit/export?reason=before", bearer(node->admin_token())).status == 200);
  }

  {
    auto node = open_on(data, true);
    HttpClient http(node->port());
    const std::string head = node->log().head().str();
    CHECK(node->workflows().active() == 0);  // the waiting run is not resumed
    CHECK(http.get("/healthz").status == 200);
    auto run = http.get("/v1/runs/" + run_id, bearer(token));
    REQUIRE(run.status == 200);
    CHECK(str(run.json().at("status")) == "running");  // on its delay, not ended
    // The audit log reads as on a live server, and the read writes nothing to the copy.
    auto exported = http.get("/v1/audit/export?reason=review", bearer(node->admin_token()));
    CHECK(exported.status == 200);
    CHECK(exported.body.find("user.signed_up") != std::string::npos);
    CHECK(http.get("/v1/views/audit?reason=review", bearer(node->admin_token())).status == 200);
    // Every kind of command is refused the same way: 503, saying why, and no
    // Retry-After (a retry would be refused again).
    const std::vector<std::pair<std::string, std::string>> commands = {
        {"/v1/users", R"({"email":"bea@example.com","display_name":"Bea","password":"a long password"})"},
        {"/v1/sessions", R"({"email":"ann@example.com","password":"a long password"})"},
        {"/v1/organizations", R"({"slug":"other","name":"Other","owner_user_id":"user-x"})"},
        {"/v1/workflows/" + workflow_id + "/runs", R"({"input":{}})"},
        {"/v1/runs/" + run_id + "/cancellation", R"({"reason":"no"})"},
        {"/v1/events", R"({"events":[{"event_id":"e1","event_type":"order.placed","payload":{}}]})"},
    };
    for (const auto& [path, body] : commands) {
      CAPTURE(path);
      auto r = http.post(path, body, path == "/v1/organizations" ? bearer(node->admin_token()) : bearer(token));
      auto refused = problem_of(r, 503);
      CHECK(str(refused.at("detail")).find("read-only") != std::string::npos);
      CHECK(r.header("retry-after").empty());
    }
    CHECK(node->log().head().str() == head);
  }

  // The control: a normal start over the same folder resumes the run.
  auto node = open_on(data, false);
  CHECK(node->workflows().active() == 1);
}
