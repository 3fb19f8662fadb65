// Workflow runs survive SIGKILL of the real server: an HTTP action whose
// request was sent but whose outcome was never recorded is sent again after
// the restart with the same Idempotency-Key (a retry, never a different
// action), durable timers fire after the restart, and every run reaches the
// same end state exactly once.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <thread>

#include "support/eventually.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "support/webhook_receiver.h"
#include "support/workflows.h"

using namespace causeway::testing;
namespace json = boost::json;

namespace {

// A member's API key of a new organization.
std::string member_key(HttpClient& c, const std::string& admin) {
  std::map<std::string, std::string> h{{"Authorization", "Bearer " + admin}};
  auto u = c.post("/v1/users", R"({"email":"owner@example.com","display_name":"O","password":"a long password"})");
  REQUIRE(u.status == 201);
  auto o = c.post("/v1/organizations",
                  R"({"slug":"acme","name":"Acme","owner_user_id":")" + str(u.json().at("user_id")) + R"("})", h);
  REQUIRE(o.status == 201);
  auto k = c.post("/v1/admin/organizations/" + str(o.json().at("org_id")) + "/api-keys",
                  R"({"name":"k","role":"member"})", h);
  REQUIRE(k.status == 201);
  return str(k.json().at("token"));
}

std::string published(HttpClient& c, const std::string& key, const std::string& definition) {
  std::map<std::string, std::string> h{{"Authorization", "Bearer " + key}};
  auto r = c.post("/v1/workflows", R"({"name":"w","definition":)" + definition + "}", h);
  REQUIRE(r.status == 201);
  const std::string id = str(r.json().at("workflow_id"));
  REQUIRE(c.post("/v1/workflows/" + id + "/versions", "", h).status == 200);
  return id;
}

json::object until_ended(HttpClient& c, const std::string& key, const std::string& run_id) {
  std::map<std::string, std::string> h{{"Authorization", "Bearer " + key}};
  json::object o;
  std::string last;
  INFO("the run, last read: " << last);
  eventually(
      [&] {
        auto r = c.get("/v1/runs/" + run_id, h);
        REQUIRE(r.status == 200);
        last = r.body;
        o = r.json().as_object();
        return str(o.at("status")) != "running";
      },
      std::chrono::seconds(30), "run " + run_id + " to end", std::chrono::milliseconds(10));
  return o;
}

std::size_t count(const std::vector<std::string>& v, const std::string& x) {
  return static_cast<std::size_t>(std::count(v.begin(), v.end(), x));
}

std::vector<std::string> types_of(HttpClient& c, const std::string& key, const std::string& run_id) {
  return run_event_types(c, key, run_id);
}

}  // namespace

TEST_CASE("kill -9 while a webhook is in flight: after restart it is sent again with the same idempotency key") {
  TempDir dir;
  WebhookReceiver receiver;
  receiver.hang_next(1);  // the first request gets no answer: the server dies waiting
  std::string key, run_id;
  {
    ServerProcess server(serve_args(dir.str(), {"--workflow-http-allow", "127.0.0.0/8"}));
    HttpClient c(server.port());
    key = member_key(c, admin_token_of(dir.str()));
    const std::string id = published(c, key, R"({"format": 1, "name": "hook", "nodes": [
        {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
        {"id": "hook", "type": "action", "action": {"kind": "http", "method": "POST", "url": ")" +
                                                 receiver.url() + R"(", "body": "{\"n\": 1}"}, "timeout_ms": 60000},
        {"id": "done", "type": "end"}],
      "edges": [{"from": "start", "to": "hook"}, {"from": "hook", "to": "done"}]})");
    auto r = c.post("/v1/workflows/" + id + "/runs", R"({"input":{}})", {{"Authorization", "Bearer " + key}});
    REQUIRE(r.status == 201);
    run_id = str(r.json().at("run_id"));
    REQUIRE(receiver.wait_for(1, std::chrono::seconds(20)));
    server.kill9();
  }
  ServerProcess server(serve_args(dir.str(), {"--workflow-http-allow", "127.0.0.0/8"}));
  HttpClient c(server.port());
  REQUIRE(receiver.wait_for(2, std::chrono::seconds(20)));
  auto end = until_ended(c, key, run_id);
  CHECK(str(end.at("status")) == "completed");
  auto got = receiver.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0].headers.at("idempotency-key") == run_id + ".hook.1");
  CHECK(got[1].headers.at("idempotency-key") == got[0].headers.at("idempotency-key"));
  CHECK(got[1].body == got[0].body);
  auto types = types_of(c, key, run_id);
  CHECK(count(types, "run.started") == 1);
  CHECK(count(types, "run.step_started") == 1);
  CHECK(count(types, "run.step_succeeded") == 3);  // start, hook, done
  CHECK(count(types, "run.completed") == 1);
  CHECK(server.terminate() == 0);
}

TEST_CASE("kill -9 while runs wait on durable timers: after restart every timer fires once and each run completes") {
  TempDir dir;
  std::string key;
  std::vector<std::string> runs;
  {
    ServerProcess server(serve_args(dir.str(), {"--workflow-http-allow", "127.0.0.0/8"}));
    HttpClient c(server.port());
    key = member_key(c, admin_token_of(dir.str()));
    const std::string id = published(c, key, R"({"format": 1, "name": "pause", "nodes": [
        {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
        {"id": "pause", "type": "delay", "duration_ms": 400},
        {"id": "set", "type": "action", "action": {"kind": "set", "values": {"done": "true"}}},
        {"id": "done", "type": "end"}],
      "edges": [{"from": "start", "to": "pause"}, {"from": "pause", "to": "set"}, {"from": "set", "to": "done"}]})");
    for (int i = 0; i < 20; ++i) {
      auto r = c.post("/v1/workflows/" + id + "/runs", R"({"input":{}})", {{"Authorization", "Bearer " + key}});
      REQUIRE(r.status == 201);
      runs.push_back(str(r.json().at("run_id")));
    }
    server.kill9();
  }
  ServerProcess server(serve_args(dir.str(), {"--workflow-http-allow", "127.0.0.0/8"}));
  HttpClient c(server.port());
  for (const auto& run_id : runs) {
    CAPTURE(run_id);
    auto end = until_ended(c, key, run_id);
    CHECK(str(end.at("status")) == "completed");
    auto types = types_of(c, key, run_id);
    CHECK(count(types, "run.timer_fired") == 1);
    CHECK(count(types, "run.completed") == 1);
  }
  CHECK(server.terminate() == 0);
  auto [status, out] = run_command(std::string(CAUSEWAY_BINARY) + " log verify --data-dir " + dir.str());
  CAPTURE(out);
  CHECK(status == 0);
}
