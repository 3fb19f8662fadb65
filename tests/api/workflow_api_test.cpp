// Workflows over HTTP on a real server: definitions saved, validated,
// published and pinned; runs that call a real local webhook receiver with an
// idempotency key and a signature, retry it, wait on timers, get cancelled and
// restarted; dry-runs that write nothing; and tenants that never see each
// other's workflows or runs.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "api/node_fixture.h"
#include "engine/workflow/http_call.h"
#include "support/eventually.h"
#include "support/mail_files.h"
#include "support/webhook_receiver.h"
#include "support/workflows.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

std::string five_nodes(const std::string& url, int initial_retry_ms = 5) {
  return five_node_workflow(url, initial_retry_ms);
}

// A manual run that waits (an hour at most) for payment.succeeded correlated by input.sub.
std::string dunning() {
  return R"({"format": 1, "name": "dunning", "input": {"sub": "string"},
      "nodes": [
        {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
        {"id": "paid", "type": "wait", "event_type": "payment.succeeded", "correlation": "input.sub",
         "timeout_ms": 3600000},
        {"id": "done", "type": "end"}],
      "edges": [{"from": "start", "to": "paid"}, {"from": "paid", "to": "done"}]})";
}

// Triggered by invoice.created over 100; notes the customer.
std::string big_invoices() {
  return R"({"format": 1, "name": "big invoices",
      "input": {"amount": "number", "customer": "string"},
      "nodes": [
        {"id": "start", "type": "trigger", "trigger": {"kind": "event", "event_type": "invoice.created",
         "filter": "input.amount > 100"}},
        {"id": "note", "type": "action", "action": {"kind": "set", "values": {"who": "input.customer"}}},
        {"id": "done", "type": "end"}],
      "edges": [{"from": "start", "to": "note"}, {"from": "note", "to": "done"}]})";
}

std::string delayed() {
  return R"({"format": 1, "name": "slow", "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "pause", "type": "delay", "duration_ms": 3600000},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "pause"}, {"from": "pause", "to": "done"}]})";
}

struct WorkflowFixture {
  NodeFixture f;
  WebhookReceiver receiver;

  // `clock`: an injected clock that outlives the fixture (timers, stuck runs, schedules).
  // HTTP actions call receivers on loopback, which the operator trusts here.
  // `http_allow`: the operator's trusted destinations (empty: the default,
  // where loopback is refused like every special-use address).
  explicit WorkflowFixture(const Clock* clock = nullptr, std::string http_allow = "127.0.0.0/8,::1/128")
      : f([&http_allow](ServerConfig& cfg) { cfg.workflow_http_allow = http_allow; }, clock) {}
  // The same on an in-memory log with `p.count` partitions.
  WorkflowFixture(NodeFixture::Partitions p, const Clock* clock)
      : f(p, [](ServerConfig& cfg) { cfg.workflow_http_allow = "127.0.0.0/8,::1/128"; }, clock) {}

  std::map<std::string, std::string> admin() { return {{"Authorization", "Bearer " + f.node->admin_token()}}; }
  std::map<std::string, std::string> bearer(const std::string& t) { return {{"Authorization", "Bearer " + t}}; }

  // An organization and a key of `role` for it.
  std::string key(const std::string& slug, const std::string& role = "member") {
    static int n = 0;
    const std::string owner = f.signup("owner" + std::to_string(++n) + "-" + slug + "@example.com");
    auto org = f.create_org(owner, slug, admin());
    REQUIRE(org.status == 201);
    const std::string org_id = str(org.json().at("org_id"));
    return key_for(org_id, role);
  }
  std::string key_for(const std::string& org_id, const std::string& role) {
    auto r = f.http->post("/v1/admin/organizations/" + org_id + "/api-keys",
                          R"({"name":"k","role":")" + role + R"("})", admin());
    REQUIRE(r.status == 201);
    return str(r.json().at("token"));
  }
  std::string org_of(const std::string& token) {
    // "cwk_<key>_<secret>": the key's organization, through a workflow it creates.
    auto r = f.http->post("/v1/workflows", R"({"name":"probe","definition":)" + delayed() + "}", bearer(token));
    REQUIRE(r.status == 201);
    return str(r.json().at("org_id"));
  }

  std::string create(const std::string& token, const std::string& definition) {
    auto r = f.http->post("/v1/workflows", R"({"name":"wf","definition":)" + definition + "}", bearer(token));
    CAPTURE(r.body);
    REQUIRE(r.status == 201);
    return str(r.json().at("workflow_id"));
  }
  void publish(const std::string& token, const std::string& id) {
    auto r = f.http->post("/v1/workflows/" + id + "/versions", "", bearer(token));
    CAPTURE(r.body);
    REQUIRE(r.status == 200);
  }
  std::string start(const std::string& token, const std::string& id, const std::string& input) {
    auto r = f.http->post("/v1/workflows/" + id + "/runs", R"({"input":)" + input + "}", bearer(token));
    CAPTURE(r.body);
    REQUIRE(r.status == 201);
    return str(r.json().at("run_id"));
  }
  json::object run(const std::string& token, const std::string& run_id) {
    auto r = f.http->get("/v1/runs/" + run_id, bearer(token));
    REQUIRE(r.status == 200);
    return r.json().as_object();
  }
  // Polls the run until `status` (bounded: a failure, not a hang, when it never comes).
  // A run an event triggers is recorded once the dispatcher reads the event:
  // until then it is 404.
  json::object until(const std::string& token, const std::string& run_id, const std::string& status) {
    json::object o;
    INFO("the run, last read: " << json::serialize(o));
    eventually(
        [&] {
          auto r = f.http->get("/v1/runs/" + run_id, bearer(token));
          if (r.status == 404) return false;
          REQUIRE(r.status == 200);
          o = r.json().as_object();
          return str(o.at("status")) == status;
        },
        std::chrono::seconds(20), "run " + run_id + " to become " + status);
    return o;
  }
  // Publishes `definition` and returns the workflow's id.
  std::string published(const std::string& token, const std::string& definition) {
    const std::string id = create(token, definition);
    publish(token, id);
    return id;
  }
  std::vector<std::string> event_types(const std::string& token, const std::string& run_id) {
    return run_event_types(*f.http, token, run_id);
  }
};

}  // namespace

TEST_CASE("a published workflow runs to completion, calling the receiver with an idempotency key and a signature") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string id = w.create(token, five_nodes(w.receiver.url()));
  w.publish(token, id);
  const std::string run_id = w.start(token, id, R"({"plan":"pro","seats":9})");
  auto done = w.until(token, run_id, "completed");
  CHECK(done.at("context").at("vars").at("crm_status").as_int64() == 200);

  auto got = w.receiver.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0].body == R"({"plan": "pro"})");
  CHECK(got[1].body == R"({"seats": 9})");
  CHECK(got[0].headers.at("idempotency-key") == run_id + ".crm.1");
  CHECK(got[1].headers.at("idempotency-key") == run_id + ".billing.1");
  auto secret = w.f.http->get("/v1/workflows/webhook-secret", w.bearer(w.key_for(w.org_of(token), "owner")));
  REQUIRE(secret.status == 200);
  const std::string key = str(secret.json().at("secret"));
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(workflow::verify_webhook_signature(key, got[0].headers.at("causeway-signature"), got[0].body, now_s, 300));
  CHECK_FALSE(workflow::verify_webhook_signature(key, got[0].headers.at("causeway-signature"), got[1].body, now_s,
                                                 300));

  auto types = w.event_types(token, run_id);
  CHECK(types.front() == "run.started");
  CHECK(types.back() == "run.completed");
  CHECK(std::count(types.begin(), types.end(), "run.step_started") == 2);
}

TEST_CASE("a 500 from the receiver is retried with the same idempotency key and the run still completes") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string id = w.create(token, five_nodes(w.receiver.url()));
  w.publish(token, id);
  w.receiver.push_reply(500, R"({"error":"busy"})");
  const std::string run_id = w.start(token, id, R"({"plan":"pro","seats":9})");
  w.until(token, run_id, "completed");
  auto got = w.receiver.received();
  REQUIRE(got.size() == 3);
  CHECK(got[0].headers.at("idempotency-key") == got[1].headers.at("idempotency-key"));
  auto types = w.event_types(token, run_id);
  CHECK(std::count(types.begin(), types.end(), "run.step_failed") == 1);
  CHECK(std::count(types.begin(), types.end(), "run.retry_scheduled") == 1);
}

TEST_CASE("a run stays pinned to the version it started on when a new version is published") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string id = w.create(token, delayed());
  w.publish(token, id);
  const std::string run_id = w.start(token, id, "{}");
  auto first = w.run(token, run_id);
  auto r = w.f.http->request(http::verb::put, "/v1/workflows/" + id + "/draft",
                             R"({"name":"wf2","definition":)" + five_nodes(w.receiver.url()) + "}", w.bearer(token));
  REQUIRE(r.status == 200);
  w.publish(token, id);
  auto wf = w.f.http->get("/v1/workflows/" + id, w.bearer(token));
  REQUIRE(wf.json().at("versions").as_array().size() == 2);
  auto after = w.run(token, run_id);
  CHECK(after.at("version").as_int64() == 1);
  CHECK(str(after.at("hash")) == str(first.at("hash")));
  CHECK(str(after.at("hash")) == str(wf.json().at("versions").as_array()[0].at("hash")));
  // Publishing the same draft again writes nothing new.
  w.publish(token, id);
  CHECK(w.f.http->get("/v1/workflows/" + id, w.bearer(token)).json().at("versions").as_array().size() == 2);
}

TEST_CASE("a waiting run is cancelled once; cancelling again is a conflict and a failed run can be restarted") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string id = w.create(token, delayed());
  w.publish(token, id);
  const std::string run_id = w.start(token, id, "{}");
  auto live = w.run(token, run_id).at("live").as_array();
  REQUIRE(live.size() == 1);
  CHECK(str(live[0].at("phase")) == "delay_wait");
  auto c = w.f.http->post("/v1/runs/" + run_id + "/cancellation", R"({"reason":"no longer needed"})", w.bearer(token));
  CHECK(c.status == 200);
  CHECK(str(w.run(token, run_id).at("status")) == "cancelled");
  problem_of(w.f.http->post("/v1/runs/" + run_id + "/cancellation", R"({"reason":"again"})", w.bearer(token)), 409);
  problem_of(w.f.http->post("/v1/runs/" + run_id + "/restart", "", w.bearer(token)), 409);

  // A run that fails (the receiver refuses with a non-retried 4xx... here: every attempt 500) restarts from its step.
  const std::string five = w.create(token, five_nodes(w.receiver.url(), 1));
  w.publish(token, five);
  for (int i = 0; i < 3; ++i) w.receiver.push_reply(500);
  const std::string failing = w.start(token, five, R"({"plan":"pro","seats":9})");
  auto failed = w.until(token, failing, "failed");
  auto restart = w.f.http->post("/v1/runs/" + failing + "/restart", "", w.bearer(token));
  CAPTURE(restart.body);
  CHECK(restart.status == 200);
  w.until(token, failing, "completed");
  auto got = w.receiver.received();
  REQUIRE(got.size() == 5);  // three failed attempts, then crm and billing
  CHECK(got[3].headers.at("idempotency-key") == failing + ".crm.1");
}

TEST_CASE("a dry-run returns the events a run would record and writes nothing") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string id = w.create(token, five_nodes("http://127.0.0.1:9/never"));
  const std::string before = w.f.head();
  auto r = w.f.http->post("/v1/workflows/" + id + "/dry-runs", R"({"draft": true, "input": {"plan":"pro","seats":9},
      "mocks": {"crm": [{"error_class": "http_5xx", "error": "down"}, {"output": {"status": 201, "body": {}, "headers": {}}}],
                "billing": [{"output": {"status": 200, "body": {"ok": true}, "headers": {}}}]}})",
                              w.bearer(token));
  CAPTURE(r.body);
  REQUIRE(r.status == 200);
  auto o = r.json().as_object();
  CHECK(str(o.at("status")) == "completed");
  CHECK(o.at("warnings").as_array().empty());
  std::vector<std::string> types;
  for (const auto& e : o.at("events").as_array()) types.push_back(str(e.at("type")));
  CHECK(std::count(types.begin(), types.end(), "run.retry_scheduled") == 1);
  CHECK(types.back() == "run.completed");
  CHECK(w.f.head() == before);
  CHECK(w.receiver.received().empty());

  // Bad input to the dry-run: an unknown mock node and a mistyped input field.
  auto bad = problem_of(w.f.http->post("/v1/workflows/" + id + "/dry-runs",
                                       R"({"draft": true, "mocks": {"nope": []}})", w.bearer(token)),
                        422);
  CHECK(pointer_of(bad) == "/mocks/nope");
  auto typed = problem_of(w.f.http->post("/v1/workflows/" + id + "/dry-runs",
                                         R"({"draft": true, "input": {"seats": "nine"}})", w.bearer(token)),
                          422);
  CHECK(pointer_of(typed) == "/input/seats");
}

TEST_CASE("an invalid draft is saved with every problem reported, and publishing it is refused with a pointer") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string broken = R"({"format": 1, "name": "b", "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "check", "type": "condition", "expression": "input.plna == 'pro'"},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "check"}, {"from": "check", "to": "don", "when": "true"},
              {"from": "check", "to": "done", "when": "false"}]})";
  auto r = w.f.http->post("/v1/workflows", R"({"name":"wf","definition":)" + broken + "}", w.bearer(token));
  REQUIRE(r.status == 201);
  auto validation = r.json().at("validation").as_object();
  CHECK_FALSE(validation.at("valid").as_bool());
  CHECK(validation.at("errors").as_array().size() >= 2);
  const std::string id = str(r.json().at("workflow_id"));
  const std::string before = w.f.head();
  auto p = problem_of(w.f.http->post("/v1/workflows/" + id + "/versions", "", w.bearer(token)), 422);
  CHECK(pointer_of(p).rfind("/definition/", 0) == 0);
  CHECK(w.f.head() == before);
  problem_of(w.f.http->post("/v1/workflows/" + id + "/runs", R"({"input":{}})", w.bearer(token)), 409);

  auto v = w.f.http->post("/v1/workflows/validations", R"({"definition":)" + broken + "}", w.bearer(token));
  REQUIRE(v.status == 200);
  bool suggested = false;
  const auto report = v.json();
  for (const auto& e : report.at("errors").as_array())
    if (str(e.at("pointer")) == "/definition/edges/1/to") suggested = str(e.at("fix")).find("done") != std::string::npos;
  CHECK(suggested);
}

TEST_CASE("run input, unknown fields and wrong roles are refused with problem details and write nothing") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string id = w.create(token, five_nodes(w.receiver.url()));
  w.publish(token, id);
  const std::string before = w.f.head();
  CHECK(pointer_of(problem_of(w.f.http->post("/v1/workflows/" + id + "/runs", R"({"input":{"seats":"x"}})",
                                             w.bearer(token)), 422)) == "/input/seats");
  CHECK(pointer_of(problem_of(w.f.http->post("/v1/workflows/" + id + "/runs", R"({"input":{"extra":1}})",
                                             w.bearer(token)), 422)) == "/input/extra");
  CHECK(pointer_of(problem_of(w.f.http->post("/v1/workflows/" + id + "/runs", R"({"inptu":{}})", w.bearer(token)),
                              422)) == "/inptu");
  CHECK(pointer_of(problem_of(w.f.http->post("/v1/workflows/" + id + "/runs", R"({"trigger":{}})", w.bearer(token)),
                              422)) == "/trigger");
  const std::string analyst = w.key_for(w.org_of(token), "analyst");
  const std::uint64_t after_probe = w.f.position();
  problem_of(w.f.http->post("/v1/workflows/" + id + "/runs", R"({"input":{}})", w.bearer(analyst)), 403);
  problem_of(w.f.http->post("/v1/workflows", R"({"name":"x","definition":{}})", w.bearer(analyst)), 403);
  problem_of(w.f.http->post("/v1/workflows", R"({"name":"x","definition":{}})", w.admin()), 403);
  CHECK(w.f.domain_writes_since(after_probe).empty());  // only the access.denied records
  CHECK(w.f.http->get("/v1/workflows/" + id, w.bearer(analyst)).status == 200);
  (void)before;
}

TEST_CASE("one organization's key never reads or changes another's workflows or runs") {
  WorkflowFixture w;
  const std::string a = w.key("alpha");
  const std::string b = w.key("beta");
  const std::string id = w.create(a, delayed());
  w.publish(a, id);
  const std::string run_id = w.start(a, id, "{}");
  const std::uint64_t before = w.f.position();
  problem_of(w.f.http->get("/v1/workflows/" + id, w.bearer(b)), 404);
  problem_of(w.f.http->get("/v1/workflows/" + id + "/versions/1", w.bearer(b)), 404);
  problem_of(w.f.http->request(http::verb::put, "/v1/workflows/" + id + "/draft",
                               R"({"name":"x","definition":)" + delayed() + "}", w.bearer(b)),
             404);
  problem_of(w.f.http->post("/v1/workflows/" + id + "/versions", "", w.bearer(b)), 404);
  problem_of(w.f.http->post("/v1/workflows/" + id + "/archive", R"({"reason":"x"})", w.bearer(b)), 404);
  problem_of(w.f.http->post("/v1/workflows/" + id + "/runs", R"({"input":{}})", w.bearer(b)), 404);
  problem_of(w.f.http->post("/v1/workflows/" + id + "/dry-runs", R"({"input":{}})", w.bearer(b)), 404);
  problem_of(w.f.http->get("/v1/runs/" + run_id, w.bearer(b)), 404);
  problem_of(w.f.http->get("/v1/runs/" + run_id + "/events", w.bearer(b)), 404);
  problem_of(w.f.http->post("/v1/runs/" + run_id + "/cancellation", R"({"reason":"x"})", w.bearer(b)), 404);
  CHECK(w.f.http->post("/v1/workflows", R"({"name":"fork","fork_from":{"workflow_id":")" + id + R"("}})",
                       w.bearer(b)).status == 422);
  CHECK(w.f.domain_writes_since(before).empty());  // only the access.denied records of the refusals
  // Once shared publicly, another organization may fork it (and only that).
  REQUIRE(w.f.http->request(http::verb::put, "/v1/workflows/" + id + "/sharing", R"({"public":true})", w.bearer(a))
              .status == 200);
  auto fork = w.f.http->post("/v1/workflows", R"({"name":"fork","fork_from":{"workflow_id":")" + id + R"("}})",
                             w.bearer(b));
  CAPTURE(fork.body);
  CHECK(fork.status == 201);
  problem_of(w.f.http->get("/v1/workflows/" + id, w.bearer(b)), 404);
}

TEST_CASE("the template library instantiates into valid workflows") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  auto list = w.f.http->get("/v1/workflows/templates", w.bearer(token));
  REQUIRE(list.status == 200);
  auto templates = list.json().at("templates").as_array();
  CHECK(templates.size() == 4);
  for (const auto& t : templates) {
    const std::string name = str(t.at("name"));
    CAPTURE(name);
    auto r = w.f.http->post("/v1/workflows", R"({"name":"from template","template":")" + name + R"("})",
                            w.bearer(token));
    CAPTURE(r.body);
    REQUIRE(r.status == 201);
    CHECK(r.json().at("validation").at("valid").as_bool());
    w.publish(token, str(r.json().at("workflow_id")));
  }
  CHECK(pointer_of(problem_of(w.f.http->post("/v1/workflows", R"({"name":"x","template":"nope"})", w.bearer(token)),
                              422)) == "/template");
}

TEST_CASE("starting a run twice with one Idempotency-Key starts it once and replays the reply") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string id = w.create(token, delayed());
  w.publish(token, id);
  auto h = w.bearer(token);
  h["Idempotency-Key"] = "start-42";
  auto first = w.f.http->post("/v1/workflows/" + id + "/runs", R"({"input":{}})", h);
  REQUIRE(first.status == 201);
  auto again = w.f.http->post("/v1/workflows/" + id + "/runs", R"({"input":{}})", h);
  CHECK(again.status == 201);
  CHECK(again.header("idempotent-replayed") == "true");
  CHECK(str(again.json().at("run_id")) == str(first.json().at("run_id")));
  CHECK(str(first.json().at("status")) == "running");
  CHECK(first.json().as_object().contains("next_due_at"));
  // Keys are scoped to the calling API key, like stored replies: another key's
  // "start-42" is another command and starts its own run.
  auto other = w.bearer(w.key_for(w.org_of(token), "member"));
  other["Idempotency-Key"] = "start-42";
  auto second = w.f.http->post("/v1/workflows/" + id + "/runs", R"({"input":{}})", other);
  CHECK(second.status == 201);
  CHECK(second.header("idempotent-replayed").empty());
  CHECK(str(second.json().at("run_id")) != str(first.json().at("run_id")));
}

TEST_CASE("a run's personal data (context and events) is for the roles that run workflows, and events page") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string id = w.create(token, delayed());
  w.publish(token, id);
  const std::string run_id = w.start(token, id, "{}");
  const std::string analyst = w.key_for(w.org_of(token), "analyst");
  auto seen = w.run(analyst, run_id);
  CHECK(str(seen.at("status")) == "running");
  CHECK_FALSE(seen.contains("context"));
  CHECK(w.run(token, run_id).contains("context"));
  problem_of(w.f.http->get("/v1/runs/" + run_id + "/events", w.bearer(analyst)), 403);

  auto page = w.f.http->get("/v1/runs/" + run_id + "/events?limit=2", w.bearer(token));
  REQUIRE(page.status == 200);
  auto body = page.json().as_object();
  CHECK(body.at("events").as_array().size() == 2);
  CHECK(body.at("next_from_version").as_int64() == 3);
  auto rest = w.f.http->get("/v1/runs/" + run_id + "/events?from_version=3", w.bearer(token)).json().as_object();
  CHECK(rest.at("next_from_version").is_null());
  CHECK(rest.at("events").as_array().front().at("version").as_int64() == 3);
  problem_of(w.f.http->get("/v1/runs/" + run_id + "/events?limit=0", w.bearer(token)), 400);
  problem_of(w.f.http->get("/v1/runs/" + run_id + "/events?limit=1001", w.bearer(token)), 400);
}

TEST_CASE("an ingested event starts the runs its filter matches, once, and wakes runs waiting on its correlation") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string triggered = w.published(token, big_invoices());
  const std::string waiting = w.published(token, dunning());
  const std::string run_id = w.start(token, waiting, R"({"sub":"sub_7"})");
  CHECK(str(w.run(token, run_id).at("live").as_array()[0].at("phase")) == "event_wait");

  auto r = w.f.http->post("/v1/events", R"({"events": [
      {"event_id": "e1", "event_type": "invoice.created", "payload": {"amount": 250, "customer": "Initech"}},
      {"event_id": "e2", "event_type": "invoice.created", "payload": {"amount": 5, "customer": "Small"}},
      {"event_id": "e3", "event_type": "payment.succeeded", "correlation": "sub_8", "payload": {"amount": 9}},
      {"event_id": "e4", "event_type": "payment.succeeded", "correlation": "sub_7", "payload": {"amount": 10}}]})",
                          w.bearer(token));
  CAPTURE(r.body);
  REQUIRE(r.status == 202);
  CHECK(r.json().at("accepted").as_int64() == 4);
  // The reply says per event what it does: e1 starts a run, e2 does not pass the filter,
  // e4 is for the waiting run.
  const auto reply = r.json();
  const auto& report = reply.at("events").as_array();
  REQUIRE(report.size() == 4);
  REQUIRE(report[0].at("runs").as_array().size() == 1);
  const std::string predicted = str(report[0].at("runs").as_array()[0].at("run_id"));
  CHECK(report[1].at("runs").as_array().empty());
  CHECK(report[2].at("waiting_runs").as_int64() == 0);
  CHECK(report[3].at("waiting_runs").as_int64() == 1);
  for (const auto& e : report) CHECK(e.at("failures").as_array().empty());
  auto done = w.until(token, run_id, "completed");
  CHECK(done.at("context").at("steps").at("paid").at("payload").at("amount").as_int64() == 10);

  // The triggered run appears in the runs view (polled: the dispatcher starts it after the batch commits).
  json::array rows;
  eventually(
      [&] {
        auto v = w.f.http->get("/v1/views/workflow_runs?workflow_id=" + triggered, w.bearer(token));
        REQUIRE(v.status == 200);
        rows = v.json().at("rows").as_array();
        return !rows.empty() && str(rows[0].at("status")) == "completed";
      },
      std::chrono::seconds(20), "the triggered run, completed, in the runs view");
  REQUIRE(rows.size() == 1);  // the small invoice did not pass the filter
  CHECK(str(rows[0].at("trigger_kind")) == "event");
  CHECK(str(rows[0].at("run_id")) == predicted);
  CHECK(w.run(token, str(rows[0].at("run_id"))).at("context").at("vars").at("who").as_string() == "Initech");

  // A repeat of an event id is a duplicate: recorded once, nothing triggered again.
  auto dup = w.f.http->post("/v1/events", R"({"events": [
      {"event_id": "e1", "event_type": "invoice.created", "payload": {"amount": 250, "customer": "Initech"}}]})",
                            w.bearer(token));
  CHECK(dup.status == 200);
  CHECK(dup.json().at("duplicates").as_array().size() == 1);
  CHECK(dup.json().at("events").as_array()[0].at("duplicate").as_bool());

  // Bad batches are refused whole, with a pointer.
  CHECK(pointer_of(problem_of(w.f.http->post("/v1/events", R"({"events": [{"event_id": "x", "event_type": "Bad",
      "payload": {}}]})", w.bearer(token)), 422)) == "/events/0/event_type");
  CHECK(pointer_of(problem_of(w.f.http->post("/v1/events", R"({"events": [{"event_id": "y", "event_type": "a.b",
      "payload": {}, "subject": "user-00000000000000000000000000000000"}]})", w.bearer(token)), 422)) ==
        "/events/0/subject");
  problem_of(w.f.http->post("/v1/events", R"({"events": []})", w.bearer(token)), 422);
}

namespace {
// Polls the tenant's workflow_runs view for `workflow_id` until `ready(rows)` (bounded).
json::array runs_view(WorkflowFixture& w, const std::string& token, const std::string& workflow_id,
                      const std::function<bool(const json::array&)>& ready) {
  json::array rows;
  eventually(
      [&] {
        auto v = w.f.http->get("/v1/views/workflow_runs?workflow_id=" + workflow_id, w.bearer(token));
        REQUIRE(v.status == 200);
        rows = v.json().at("rows").as_array();
        return ready(rows);
      },
      std::chrono::seconds(20), "the runs view of workflow " + workflow_id + " to be ready");
  return rows;
}
}  // namespace

TEST_CASE("a run making no progress past its stuck_after_ms is marked stuck, in its state, its view and the metrics") {
  ManualClock clock;
  WorkflowFixture w(&clock);
  const std::string token = w.key("acme");
  w.receiver.hang_next(1);  // the call never answers: the run waits on it
  const std::string id = w.create(token, R"({"format": 1, "name": "slow hook", "stuck_after_ms": 60000, "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "hook", "type": "action", "action": {"kind": "http", "method": "POST", "url": ")" +
                                             w.receiver.url() + R"("}, "timeout_ms": 600000},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "hook"}, {"from": "hook", "to": "done"}]})");
  w.publish(token, id);
  const std::string run_id = w.start(token, id, "{}");
  REQUIRE(w.receiver.wait_for(1, std::chrono::seconds(20)));
  w.f.node->workflows().tick();
  CHECK_FALSE(w.run(token, run_id).at("stuck").as_bool());  // not yet past stuck_after_ms

  clock.advance_us(61'000'000);
  w.f.node->workflows().tick();
  eventually([&] { return w.run(token, run_id).at("stuck").as_bool(); }, std::chrono::seconds(20),
             "run " + run_id + " to be marked stuck");
  auto rows = runs_view(w, token, id, [](const json::array& r) { return !r.empty() && r[0].at("stuck").as_int64() == 1; });
  CHECK(str(rows[0].at("status")) == "running");
  auto m = w.f.http->get("/v1/admin/metrics", w.admin());
  REQUIRE(m.status == 200);
  CHECK(m.body.find("causeway_workflow_runs_marked_stuck_total 1") != std::string::npos);
  CHECK(m.body.find("causeway_workflow_runs_active 1") != std::string::npos);
  problem_of(w.f.http->get("/v1/admin/metrics", w.bearer(token)), 401);
}

TEST_CASE("a schedule fires once per cron time on the injected clock, never twice for the same time") {
  ManualClock clock(1'700'000'000'000'000);  // 2023-11-14T22:13:20Z
  WorkflowFixture w(&clock);
  const std::string token = w.key("acme");
  const std::string id = w.create(token, R"({"format": 1, "name": "every five minutes", "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "schedule", "cron": "*/5 * * * *"}},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "done"}]})");
  // Scheduled workflows are a feature of the paid plans (docs/billing.md).
  auto up = w.f.http->request(http::verb::put, "/v1/organizations/" + w.org_of(token) + "/subscription/plan",
                              R"({"plan":"pro"})", w.admin());
  REQUIRE(up.status == 200);
  w.publish(token, id);
  // The dispatcher learns of the version from the log: wait until it does, by ticking until nothing is pending.
  w.f.node->workflows().tick();
  clock.advance_us(300'000'000);  // past 22:15
  json::array rows;
  eventually(
      [&] {
        w.f.node->workflows().tick();
        auto v = w.f.http->get("/v1/views/workflow_runs?workflow_id=" + id, w.bearer(token));
        rows = v.json().at("rows").as_array();
        return !rows.empty();
      },
      std::chrono::seconds(20), "the first scheduled run in the runs view");
  for (int i = 0; i < 5; ++i) w.f.node->workflows().tick();  // the same cron time: no second run
  clock.advance_us(300'000'000);  // past 22:20
  w.f.node->workflows().tick();
  rows = runs_view(w, token, id, [](const json::array& r) { return r.size() >= 2; });
  CHECK(rows.size() == 2);
  for (const auto& r : rows) CHECK(str(r.at("trigger_kind")) == "schedule");
}

TEST_CASE("a dry-run with steps stops after that many decisions and shows the live nodes and the context") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string id = w.create(token, five_nodes("http://127.0.0.1:9/never"));
  auto r = w.f.http->post("/v1/workflows/" + id + "/dry-runs",
                          R"({"draft": true, "steps": 1, "input": {"plan":"pro","seats":9}})", w.bearer(token));
  CAPTURE(r.body);
  REQUIRE(r.status == 200);
  auto o = r.json().as_object();
  CHECK(str(o.at("status")) == "running");
  CHECK(str(o.at("events").as_array().back().at("type")) == "run.step_started");
  REQUIRE(o.at("live").as_array().size() == 1);
  CHECK(str(o.at("live").as_array()[0].at("node")) == "crm");
  CHECK(str(o.at("live").as_array()[0].at("phase")) == "started");
  CHECK(o.at("context").at("input").at("plan").as_string() == "pro");
  CHECK(pointer_of(problem_of(w.f.http->post("/v1/workflows/" + id + "/dry-runs", R"({"draft": true, "steps": 0})",
                                             w.bearer(token)), 422)) == "/steps");
  CHECK(pointer_of(problem_of(w.f.http->post("/v1/workflows/" + id + "/dry-runs", R"({"draft": "yes"})",
                                             w.bearer(token)), 422)) == "/draft");
}

TEST_CASE("a dry-run fed a real run's action outputs as mocks records exactly the real run's events") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string id = w.create(token, five_nodes(w.receiver.url(), 1));
  w.publish(token, id);
  w.receiver.push_reply(503, R"({"retry":"later"})");
  w.receiver.push_reply(200, R"({"crm":"ok"})");
  w.receiver.push_reply(201, R"({"billing":"ok"})");
  const std::string run_id = w.start(token, id, R"({"plan":"pro","seats":9})");
  w.until(token, run_id, "completed");
  auto real = w.f.http->get("/v1/runs/" + run_id + "/events", w.bearer(token)).json().at("events").as_array();

  // The mocks are what the real run recorded: each attempt's output or error, in order.
  json::object mocks;
  for (const auto& e : real) {
    const auto& d = e.at("data").as_object();
    const std::string type = str(e.at("type"));
    if (type != "run.step_succeeded" && type != "run.step_failed") continue;
    const std::string node = str(d.at("node"));
    if (node != "crm" && node != "billing") continue;
    json::object mock;
    if (type == "run.step_succeeded") mock["output"] = d.at("output");
    else mock = json::object{{"error_class", d.at("error_class")}, {"error", d.at("error")}};
    if (!mocks.contains(node)) mocks[node] = json::array();
    mocks[node].as_array().push_back(std::move(mock));
  }
  auto r = w.f.http->post("/v1/workflows/" + id + "/dry-runs",
                          json::serialize(json::object{{"version", 1},
                                                       {"input", json::object{{"plan", "pro"}, {"seats", 9}}},
                                                       {"mocks", mocks}}),
                          w.bearer(token));
  CAPTURE(r.body);
  REQUIRE(r.status == 200);
  auto dry = r.json().at("events").as_array();
  REQUIRE(dry.size() == real.size());
  // Equal event by event, except what names this run and when: its id, the
  // subject its data is sealed under, the trigger, and timer deadlines.
  auto comparable = [](json::object d) {
    for (const char* k : {"run_id", "subject", "trigger", "due_at", "idempotency_key"}) d.erase(k);
    return json::serialize(d);
  };
  for (std::size_t i = 0; i < real.size(); ++i) {
    CAPTURE(i);
    CHECK(str(dry[i].at("type")) == str(real[i].at("type")));
    CHECK(comparable(dry[i].at("data").as_object()) == comparable(real[i].at("data").as_object()));
  }
}

TEST_CASE("a start_workflow action starts the child run once and the parent goes on with its id") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string child = w.create(token, R"({"format": 1, "name": "child", "input": {"n": "number"}, "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "double", "type": "action", "action": {"kind": "set", "values": {"twice": "input.n * 2"}}},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "double"}, {"from": "double", "to": "done"}]})");
  w.publish(token, child);
  const std::string parent = w.create(token, R"({"format": 1, "name": "parent", "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "spawn", "type": "action", "action": {"kind": "start_workflow", "workflow_id": ")" + child +
                                                  R"(", "input": {"n": "21"}}},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "spawn"}, {"from": "spawn", "to": "done"}]})");
  w.publish(token, parent);
  const std::string run_id = w.start(token, parent, "{}");
  auto done = w.until(token, run_id, "completed");
  const std::string child_run = str(done.at("context").at("steps").at("spawn").at("run_id"));
  auto c = w.until(token, child_run, "completed");
  CHECK(c.at("context").at("vars").at("twice").as_int64() == 42);
  auto rows = runs_view(w, token, child, [](const json::array& r) { return !r.empty(); });
  CHECK(rows.size() == 1);
  CHECK(str(rows[0].at("trigger_kind")) == "workflow");
}

TEST_CASE("an email action goes through the outbox: the mail is delivered with the run's rendered subject and text") {
  WorkflowFixture w;
  const std::string token = w.key("mailer");
  const std::string id = w.create(token, R"({"format": 1, "name": "welcome", "input": {"email": "string", "name": "string"},
    "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "mail", "type": "action", "action": {"kind": "email", "to": "input.email",
        "subject": "Welcome, {{ input.name }}", "text": "Your workspace is ready, {{ input.name }}."}},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "mail"}, {"from": "mail", "to": "done"}]})");
  w.publish(token, id);
  const std::string run_id = w.start(token, id, R"({"email":"kim@example.com","name":"Kim"})");
  w.until(token, run_id, "completed");
  std::string found;
  for (const auto& m : mail_files(w.f.dir.str(), 2))  // the owner's verification mail, then this one
    if (m.find("Subject: Welcome, Kim") != std::string::npos) found = m;
  REQUIRE_FALSE(found.empty());
  CHECK(found.find("To: kim@example.com") != std::string::npos);
  CHECK(found.find("Your workspace is ready, Kim.") != std::string::npos);
  // Both deliveries are counted; nothing was given up.
  eventually([&] { return w.f.http->get("/v1/admin/metrics", w.admin()).body.find("causeway_mail_sent_total 2\n") !=
                          std::string::npos; },
             std::chrono::seconds(10), "the metrics count both mails");
  CHECK(w.f.http->get("/v1/admin/metrics", w.admin()).body.find("causeway_mail_given_up_total 0\n") !=
        std::string::npos);
}

TEST_CASE("by default a tenant's HTTP action cannot reach the server's own network: the step fails once, final, "
          "as forbidden_destination, and nothing is sent") {
  WorkflowFixture w(nullptr, "");
  const std::string token = w.key("acme");
  const std::string admin_metrics =
      "http://127.0.0.1:" + std::to_string(w.f.node->port()) + "/v1/admin/metrics";
  for (const std::string& url : std::vector<std::string>{admin_metrics, w.receiver.url(), std::string("http://localhost:") +
                                    std::to_string(w.receiver.port()) + "/hook",
                                "http://169.254.169.254/latest/meta-data/"}) {
    CAPTURE(url);
    const std::string id = w.create(token, five_nodes(url));
    w.publish(token, id);
    const std::string run_id = w.start(token, id, R"({"plan":"pro","seats":9})");
    w.until(token, run_id, "failed");
    auto events = w.f.http->get("/v1/runs/" + run_id + "/events", w.bearer(token));
    REQUIRE(events.status == 200);
    CHECK(events.body.find(R"("error_class":"forbidden_destination")") != std::string::npos);
    CHECK(events.body.find("may not reach") != std::string::npos);
    auto types = w.event_types(token, run_id);
    CHECK(std::count(types.begin(), types.end(), "run.step_failed") == 1);  // no retry, though 3 attempts allowed
    CHECK(std::count(types.begin(), types.end(), "run.retry_scheduled") == 0);
  }
  CHECK(w.receiver.received().empty());
}

TEST_CASE("rotating the webhook secret signs with the new and the old secret for the grace period, then the new "
          "only; members cannot rotate it") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string org = w.org_of(token);
  const auto owner = w.bearer(w.key_for(org, "owner"));
  auto read = [&] {
    auto r = w.f.http->get("/v1/workflows/webhook-secret", owner);
    REQUIRE(r.status == 200);
    return r.json().as_object();
  };
  const std::string first = str(read().at("secret"));
  CHECK(read().at("generation").as_int64() == 0);
  problem_of(w.f.http->post("/v1/workflows/webhook-secret/rotation", "", w.bearer(token)), 403);
  CHECK(pointer_of(problem_of(w.f.http->post("/v1/workflows/webhook-secret/rotation", R"({"grace_hours":999})", owner),
                              422)) == "/grace_hours");
  REQUIRE(w.f.http->post("/v1/workflows/webhook-secret/rotation", "", owner).status == 200);
  auto now = read();
  const std::string second = str(now.at("secret"));
  CHECK(second != first);
  CHECK(now.at("generation").as_int64() == 1);
  CHECK(now.contains("previous_valid_until"));

  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  auto signed_by = [&](const std::string& run_id) {
    auto got = w.receiver.received();
    REQUIRE_FALSE(got.empty());
    const auto& last = got.back();
    CHECK(last.headers.at("idempotency-key").find(run_id) == 0);
    return std::pair{
        workflow::verify_webhook_signature(first, last.headers.at("causeway-signature"), last.body, now_s, 300),
        workflow::verify_webhook_signature(second, last.headers.at("causeway-signature"), last.body, now_s, 300)};
  };
  const std::string id = w.create(token, five_nodes(w.receiver.url()));
  w.publish(token, id);
  std::string run_id = w.start(token, id, R"({"plan":"pro","seats":9})");
  w.until(token, run_id, "completed");
  CHECK(signed_by(run_id) == std::pair{true, true});  // in the grace period: both

  REQUIRE(w.f.http->post("/v1/workflows/webhook-secret/rotation", R"({"grace_hours":0})", owner).status == 200);
  const std::string third = str(read().at("secret"));
  CHECK_FALSE(read().contains("previous_valid_until"));
  run_id = w.start(token, id, R"({"plan":"pro","seats":9})");
  w.until(token, run_id, "completed");
  auto got = w.receiver.received();
  const auto& last = got.back();
  CHECK(workflow::verify_webhook_signature(third, last.headers.at("causeway-signature"), last.body, now_s, 300));
  CHECK_FALSE(workflow::verify_webhook_signature(second, last.headers.at("causeway-signature"), last.body, now_s, 300));
  CHECK_FALSE(workflow::verify_webhook_signature(first, last.headers.at("causeway-signature"), last.body, now_s, 300));
}

TEST_CASE("an event that does not fit a triggered workflow's input is reported, counted, logged and recorded as a "
          "failed run in the runs view") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string id = w.create(token, R"({"format": 1, "name": "seats", "input": {"seats": "number"},
      "nodes": [
        {"id": "start", "type": "trigger", "trigger": {"kind": "event", "event_type": "order.placed"}},
        {"id": "done", "type": "end"}],
      "edges": [{"from": "start", "to": "done"}]})");
  w.publish(token, id);
  auto r = w.f.http->post("/v1/events", R"({"events": [
      {"event_id": "bad", "event_type": "order.placed", "payload": {"seats": "nine"}},
      {"event_id": "good", "event_type": "order.placed", "payload": {"seats": 9}}]})",
                          w.bearer(token));
  CAPTURE(r.body);
  REQUIRE(r.status == 202);
  const auto reply = r.json();
  const auto& report = reply.at("events").as_array();
  REQUIRE(report[0].at("failures").as_array().size() == 1);
  const auto& failure = report[0].at("failures").as_array()[0];
  CHECK(str(failure.at("pointer")) == "/input/seats");
  CHECK(str(failure.at("error")).find("number") != std::string::npos);
  CHECK(report[0].at("runs").as_array().empty());
  REQUIRE(report[1].at("runs").as_array().size() == 1);
  const std::string failed_run = str(failure.at("run_id"));
  const std::string good_run = str(report[1].at("runs").as_array()[0].at("run_id"));

  w.until(token, failed_run, "failed");
  w.until(token, good_run, "completed");
  auto types = w.event_types(token, failed_run);
  CHECK(types == std::vector<std::string>{"run.trigger_failed"});
  auto rows = runs_view(w, token, id, [](const json::array& rows) { return rows.size() == 2; });
  for (const auto& row : rows) {
    if (str(row.at("run_id")) != failed_run) continue;
    CHECK(str(row.at("status")) == "failed");
    CHECK(str(row.at("error_class")) == "invalid_input");
  }
  // Restarting a run that never started is refused: the event has to be sent again.
  problem_of(w.f.http->post("/v1/runs/" + failed_run + "/restart", "", w.bearer(token)), 409);
  auto metrics = w.f.http->get("/v1/admin/metrics", w.admin());
  CHECK(metrics.body.find("causeway_workflow_trigger_failures_total 1") != std::string::npos);
  // Sending the same event again is a duplicate; the failure is recorded once.
  REQUIRE(w.f.http->post("/v1/events", R"({"events": [
      {"event_id": "bad", "event_type": "order.placed", "payload": {"seats": "nine"}}]})", w.bearer(token)).status == 200);
  CHECK(w.event_types(token, failed_run).size() == 1);
}

TEST_CASE("GET /v1/workflows and /v1/runs list the organization's own, with the views' filters and paging") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string other = w.key("globex");
  const std::string id = w.create(token, delayed());
  w.publish(token, id);
  const std::string run_id = w.start(token, id, "{}");
  w.create(other, delayed());
  auto workflows = w.f.http->get("/v1/workflows?position=" + w.f.head(), w.bearer(token));
  CAPTURE(workflows.body);
  REQUIRE(workflows.status == 200);
  const auto listed = workflows.json();
  const auto& rows = listed.at("rows").as_array();
  REQUIRE(rows.size() == 1);
  CHECK(str(rows[0].at("workflow_id")) == id);
  auto runs = w.f.http->get("/v1/runs?workflow_id=" + id + "&limit=1&position=" + w.f.head(), w.bearer(token));
  CAPTURE(runs.body);
  REQUIRE(runs.status == 200);
  REQUIRE(runs.json().at("rows").as_array().size() == 1);
  CHECK(str(runs.json().at("rows").as_array()[0].at("run_id")) == run_id);
  auto theirs = w.f.http->get("/v1/runs?workflow_id=" + id + "&position=" + w.f.head(), w.bearer(other));
  REQUIRE(theirs.status == 200);
  CHECK(theirs.json().at("rows").as_array().empty());
  problem_of(w.f.http->get("/v1/runs?nonsense=1", w.bearer(token)), 400);
}

TEST_CASE("GET /v1/workflows/{id}/versions lists the published versions oldest first, a page at a time; another "
          "organization's workflow is 404") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string other = w.key("globex");
  const std::string id = w.create(token, delayed());
  w.publish(token, id);
  std::string second = delayed();
  second.replace(second.find("3600000"), 7, "1800000");
  auto saved = w.f.http->request(http::verb::put, "/v1/workflows/" + id + "/draft",
                                 R"({"name":"slow","definition":)" + second + "}", w.bearer(token));
  REQUIRE(saved.status == 200);
  w.publish(token, id);
  const std::string versions = "/v1/workflows/" + id + "/versions";
  auto first = w.f.http->get(versions + "?limit=1&position=" + w.f.head(), w.bearer(token));
  CAPTURE(first.body);
  REQUIRE(first.status == 200);
  const auto page = first.json();
  REQUIRE(page.at("rows").as_array().size() == 1);
  CHECK(page.at("rows").as_array()[0].at("version").as_int64() == 1);
  auto rest = w.f.http->get(versions + "?limit=1&cursor=" + str(page.at("next_cursor")), w.bearer(token));
  REQUIRE(rest.status == 200);
  REQUIRE(rest.json().at("rows").as_array().size() == 1);
  CHECK(rest.json().at("rows").as_array()[0].at("version").as_int64() == 2);
  CHECK(problem_of(w.f.http->get(versions, w.bearer(other)), 404).at("detail") == "no such workflow");
  problem_of(w.f.http->get(versions + "?workflow_id=" + id, w.bearer(token)), 400);
  auto wrong = w.f.http->request(http::verb::delete_, versions, {}, w.bearer(token), {});
  CHECK(wrong.status == 405);
  CHECK(wrong.header("allow") == "GET, POST");
}

TEST_CASE("walking GET /v1/runs with its cursor while runs keep starting yields every run of the first page's time "
          "exactly once, in order") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string id = w.create(token, delayed());
  w.publish(token, id);
  std::vector<std::string> before;
  for (int i = 0; i < 7; ++i) before.push_back(w.start(token, id, "{}"));
  const std::string at = w.f.head();
  std::vector<std::string> walked;
  std::string cursor;
  for (int page = 0; page < 20; ++page) {
    w.start(token, id, "{}");  // a run started between every two pages
    std::string target = "/v1/runs?workflow_id=" + id + "&limit=2&sort=started_at&position=" + at;
    if (!cursor.empty()) target += "&cursor=" + cursor;
    auto r = w.f.http->get(target, w.bearer(token));
    CAPTURE(r.body);
    REQUIRE(r.status == 200);
    const auto doc = r.json();
    for (const auto& row : doc.at("rows").as_array()) walked.push_back(str(row.at("run_id")));
    const auto* next = doc.as_object().if_contains("next_cursor");
    if (!next || next->is_null()) break;
    cursor = str(*next);
  }
  // The runs that existed at the first page come first, each once, in the order they started; later runs may follow.
  REQUIRE(walked.size() >= before.size());
  CHECK(std::vector<std::string>(walked.begin(), walked.begin() + static_cast<std::ptrdiff_t>(before.size())) ==
        before);
  std::set<std::string> unique(walked.begin(), walked.end());
  CHECK(unique.size() == walked.size());
}

TEST_CASE("on three partitions, an event triggers a run, wakes a waiting run and a delay fires on the injected clock") {
  ManualClock clock;  // declared first: the node reads it until it stops
  WorkflowFixture w(NodeFixture::Partitions{3}, &clock);
  const std::string token = w.key("acme");
  const std::string triggered = w.create(token, R"({"format": 1, "name": "big invoices",
      "input": {"amount": "number"},
      "nodes": [
        {"id": "start", "type": "trigger", "trigger": {"kind": "event", "event_type": "invoice.created"}},
        {"id": "done", "type": "end"}],
      "edges": [{"from": "start", "to": "done"}]})");
  w.publish(token, triggered);
  const std::string waiting = w.published(token, dunning());
  const std::string slow = w.published(token, delayed());
  const std::string waiting_run = w.start(token, waiting, R"({"sub":"sub_7"})");
  const std::string slow_run = w.start(token, slow, "{}");
  auto r = w.f.http->post("/v1/events", R"({"events": [
      {"event_id": "e1", "event_type": "invoice.created", "payload": {"amount": 250}},
      {"event_id": "e2", "event_type": "payment.succeeded", "correlation": "sub_7", "payload": {"amount": 10}}]})",
                          w.bearer(token));
  CAPTURE(r.body);
  REQUIRE(r.status == 202);
  const std::string predicted = str(r.json().at("events").as_array()[0].at("runs").as_array()[0].at("run_id"));
  w.until(token, predicted, "completed");
  w.until(token, waiting_run, "completed");
  CHECK(str(w.run(token, slow_run).at("status")) == "running");
  clock.advance_us(3'600'000'000LL);
  w.until(token, slow_run, "completed");
}

TEST_CASE("a restart reads the dispatcher's start-up index and the log after it, not the whole log: the waiting run "
          "resumes and the published trigger fires; without the index it scans the whole log, to the same effect") {
  WorkflowFixture w;
  const std::string token = w.key("acme");
  const std::string triggered = w.published(token, big_invoices());
  const std::string waiting = w.published(token, dunning());
  const std::string first = w.start(token, waiting, R"({"sub":"sub_1"})");
  const std::string second = w.start(token, waiting, R"({"sub":"sub_2"})");
  const std::uint64_t head = w.f.node->log().head().offsets.at(0);

  w.f.restart();
  const auto indexed = w.f.node->workflow_recovery();
  CHECK(indexed.from_index);
  CHECK(indexed.read_back == 2);         // the two published workflows, read back from their places
  CHECK(indexed.scanned < head / 2);     // the log after the checkpoint the stop saved, not the whole log
  auto r = w.f.http->post("/v1/events", R"({"events": [
      {"event_id": "i1", "event_type": "invoice.created", "payload": {"amount": 250, "customer": "Initech"}},
      {"event_id": "p1", "event_type": "payment.succeeded", "correlation": "sub_1", "payload": {"amount": 1}}]})",
                          w.bearer(token));
  REQUIRE(r.status == 202);
  CHECK(r.json().at("events").as_array()[0].at("runs").as_array().size() == 1);
  w.until(token, first, "completed");
  runs_view(w, token, triggered, [](const json::array& rows) { return rows.size() == 1; });

  // A checkpoint without the index (as an earlier release wrote it): the whole log is read.
  const std::string checkpoint = w.f.dir.str() + "/workflow-dispatch.json";
  const std::uint64_t before = w.f.node->log().head().offsets.at(0);
  w.f.node->stop();
  {
    std::ofstream out(checkpoint, std::ios::trunc);
    out << R"({"next":[1]})";
  }
  w.f.restart();
  const auto scanned = w.f.node->workflow_recovery();
  CHECK_FALSE(scanned.from_index);
  CHECK(scanned.scanned >= before);
  REQUIRE(w.f.http->post("/v1/events", R"({"events": [{"event_id": "p2", "event_type": "payment.succeeded",
      "correlation": "sub_2", "payload": {"amount": 2}}]})", w.bearer(token)).status == 202);
  w.until(token, second, "completed");
}
