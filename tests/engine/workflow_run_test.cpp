// The run interpreter (engine/workflow/interpreter.h) and the dry-run on top
// of it: which events a run decides, in which order, for every node type —
// without a log, a server or a clock (time is an argument).
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "engine/schema_registry.h"
#include "support/schemas.h"
#include "engine/workflow/dry_run.h"
#include "engine/workflow/interpreter.h"

using namespace causeway;
using namespace causeway::workflow;
namespace json = boost::json;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000;

std::shared_ptr<const Definition> compiled(const std::string& text) {
  auto def = compile(json::parse(text), testing::embedded_registry());
  if (!def) FAIL_CHECK(def.error().message << " at " << def.error().pointer);
  REQUIRE(def.ok());
  return *def;
}

StartInfo info_for(json::object input = {}) {
  StartInfo info;
  info.run_id = "run-1";
  info.org_id = "org-1";
  info.workflow_id = "workflow-1";
  info.hash = "h";
  info.version = 1;
  info.subject = "run-1";
  info.input = std::move(input);
  info.trigger["kind"] = "manual";
  return info;
}

// "type node" per event, e.g. "step_succeeded check".
std::vector<std::string> trace(const std::vector<DraftEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    std::string line = e.type.substr(4);
    if (auto* n = e.data.if_contains("node"); n && n->is_string() && !n->as_string().empty())
      line += " " + std::string(n->as_string());
    out.push_back(line);
  }
  return out;
}

const char* kFiveNodes = R"({
  "format": 1, "name": "five", "input": {"plan": "string", "seats": "number"},
  "nodes": [
    {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
    {"id": "big", "type": "condition", "expression": "input.seats > 5"},
    {"id": "hook", "type": "action", "action": {"kind": "http", "method": "POST", "url": "http://127.0.0.1:1/h",
     "body": "{\"plan\": \"{{ input.plan }}\"}"},
     "retry": {"initial_interval_ms": 1000, "backoff_coefficient": 2, "maximum_attempts": 3}},
    {"id": "note", "type": "action", "action": {"kind": "set", "values": {"status": "steps.hook.status"}}},
    {"id": "done", "type": "end"}
  ],
  "edges": [
    {"from": "start", "to": "big"},
    {"from": "big", "to": "hook", "when": "true"},
    {"from": "big", "to": "done", "when": "false"},
    {"from": "hook", "to": "note"},
    {"from": "note", "to": "done"}
  ]})";

json::object ok_output(int status = 200) {
  return json::object{{"status", status}, {"body", json::object{}}, {"headers", json::object{}}};
}

Outcome outcome(const Effect& fx, bool ok, const std::string& cls = {}) {
  Outcome o;
  o.node = fx.node;
  o.visit = fx.visit;
  o.attempt = fx.attempt;
  o.ok = ok;
  if (ok) o.output = ok_output();
  o.error_class = cls;
  o.error = cls;
  return o;
}

}  // namespace

TEST_CASE("a run decides internal nodes at once and stops at an external action, which it renders") {
  auto def = compiled(kFiveNodes);
  run::State s;
  run::Context c;
  auto step = start(*def, s, c, info_for({{"plan", "pro"}, {"seats", 9}}), kT0);
  CHECK(trace(step.events) == std::vector<std::string>{"started", "step_scheduled start", "step_succeeded start",
                                                       "step_scheduled big", "step_succeeded big",
                                                       "step_scheduled hook", "step_started hook"});
  REQUIRE(step.effects.size() == 1);
  CHECK(step.effects[0].url == "http://127.0.0.1:1/h");
  CHECK(step.effects[0].body == R"({"plan": "pro"})");
  CHECK(step.effects[0].idempotency_key == "run-1.hook.1");
  CHECK(step.effects[0].attempt == 1);
  CHECK(s.status == run::Status::running);

  auto next = advance(*def, s, c, {outcome(step.effects[0], true)}, {}, kT0 + 5);
  CHECK(trace(next.events) == std::vector<std::string>{"step_succeeded hook", "step_scheduled note",
                                                       "step_succeeded note", "step_scheduled done",
                                                       "step_succeeded done", "completed"});
  CHECK(s.status == run::Status::completed);
  CHECK(c.vars.at("status").as_int64() == 200);
}

TEST_CASE("the false branch of a condition skips the action and the run completes in one decision") {
  auto def = compiled(kFiveNodes);
  run::State s;
  run::Context c;
  auto step = start(*def, s, c, info_for({{"plan", "free"}, {"seats", 1}}), kT0);
  CHECK(step.effects.empty());
  CHECK(s.status == run::Status::completed);
  CHECK(trace(step.events).back() == "completed");
}

TEST_CASE("a failed attempt is retried after the back-off with the same idempotency key, then the run fails") {
  auto def = compiled(kFiveNodes);
  run::State s;
  run::Context c;
  auto step = start(*def, s, c, info_for({{"plan", "pro"}, {"seats", 9}}), kT0);
  auto fx = step.effects.at(0);
  auto failed1 = advance(*def, s, c, {outcome(fx, false, "http_5xx")}, {}, kT0 + 10);
  CHECK(trace(failed1.events) == std::vector<std::string>{"step_failed hook", "retry_scheduled hook"});
  CHECK(failed1.next_due_us == kT0 + 10 + 1'000'000);
  CHECK(failed1.effects.empty());

  auto early = advance(*def, s, c, {}, {}, kT0 + 10 + 999'999);
  CHECK(early.events.empty());
  auto retry = advance(*def, s, c, {}, {}, kT0 + 10 + 1'000'000);
  CHECK(trace(retry.events) == std::vector<std::string>{"timer_fired hook", "step_started hook"});
  REQUIRE(retry.effects.size() == 1);
  CHECK(retry.effects[0].attempt == 2);
  CHECK(retry.effects[0].idempotency_key == fx.idempotency_key);

  auto failed2 = advance(*def, s, c, {outcome(retry.effects[0], false, "timeout")}, {}, kT0 + 2'000'000);
  CHECK(failed2.next_due_us == kT0 + 2'000'000 + 2'000'000);  // backoff coefficient 2
  auto third = advance(*def, s, c, {}, {}, kT0 + 4'000'000);
  auto last = advance(*def, s, c, {outcome(third.effects.at(0), false, "http_5xx")}, {}, kT0 + 5'000'000);
  CHECK(trace(last.events) == std::vector<std::string>{"step_failed hook", "failed hook"});
  CHECK(s.status == run::Status::failed);
}

TEST_CASE("a non-retryable error class fails at once and takes the error edge when there is one") {
  auto def = compiled(R"({
    "format": 1, "name": "e", "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "hook", "type": "action", "action": {"kind": "http", "method": "GET", "url": "http://127.0.0.1:1/"},
       "retry": {"maximum_attempts": 5, "non_retryable": ["http_4xx"]}},
      {"id": "fallback", "type": "action", "action": {"kind": "set", "values": {"fell_back": "true"}}},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "hook"}, {"from": "hook", "to": "done"},
              {"from": "hook", "to": "fallback", "when": "error"}, {"from": "fallback", "to": "done"}]})");
  run::State s;
  run::Context c;
  auto step = start(*def, s, c, info_for(), kT0);
  auto next = advance(*def, s, c, {outcome(step.effects.at(0), false, "http_4xx")}, {}, kT0 + 1);
  CHECK(trace(next.events) == std::vector<std::string>{"step_failed hook", "step_scheduled fallback",
                                                       "step_succeeded fallback", "step_scheduled done",
                                                       "step_succeeded done", "completed"});
  CHECK(c.vars.at("fell_back").as_bool());
}

TEST_CASE("a delay sets a durable timer and the run goes on only when the clock reaches it") {
  auto def = compiled(R"({
    "format": 1, "name": "d", "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "pause", "type": "delay", "duration_ms": 60000},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "pause"}, {"from": "pause", "to": "done"}]})");
  run::State s;
  run::Context c;
  auto step = start(*def, s, c, info_for(), kT0);
  CHECK(trace(step.events).back() == "timer_set pause");
  CHECK(step.next_due_us == kT0 + 60'000'000);
  CHECK(advance(*def, s, c, {}, {}, kT0 + 59'999'999).events.empty());
  auto fired = advance(*def, s, c, {}, {}, kT0 + 60'000'000);
  CHECK(trace(fired.events) == std::vector<std::string>{"timer_fired pause", "step_succeeded pause",
                                                        "step_scheduled done", "step_succeeded done", "completed"});
}

TEST_CASE("parallel branches run and the join fires once, when every branch has arrived") {
  auto def = compiled(R"({
    "format": 1, "name": "p", "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "split", "type": "parallel"},
      {"id": "a", "type": "action", "action": {"kind": "set", "values": {"a": "1"}}},
      {"id": "b", "type": "delay", "duration_ms": 1000},
      {"id": "join", "type": "join"},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "split"}, {"from": "split", "to": "a"}, {"from": "split", "to": "b"},
              {"from": "a", "to": "join"}, {"from": "b", "to": "join"}, {"from": "join", "to": "done"}]})");
  run::State s;
  run::Context c;
  auto step = start(*def, s, c, info_for(), kT0);
  CHECK(s.status == run::Status::running);
  CHECK(s.pending.at("join#1").phase == run::Phase::joining);
  auto fired = advance(*def, s, c, {}, {}, kT0 + 1'000'000);
  auto t = trace(fired.events);
  CHECK(std::count(t.begin(), t.end(), "step_succeeded join") == 1);
  CHECK(t.back() == "completed");
}

TEST_CASE("a loop is bounded by max_visits: the run fails when a node would be entered once too often") {
  auto def = compiled(R"({
    "format": 1, "name": "l", "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "init", "type": "action", "action": {"kind": "set", "values": {"n": "0"}}},
      {"id": "count", "type": "action", "max_visits": 3,
       "action": {"kind": "set", "values": {"n": "vars.n + 1"}}},
      {"id": "again", "type": "condition", "expression": "vars.n < 10"},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "init"}, {"from": "init", "to": "count"}, {"from": "count", "to": "again"},
              {"from": "again", "to": "count", "when": "true"}, {"from": "again", "to": "done", "when": "false"}]})");
  run::State s;
  run::Context c;
  auto step = start(*def, s, c, info_for(), kT0);
  CHECK(s.status == run::Status::failed);
  REQUIRE_FALSE(step.events.empty());
  CHECK(step.events.back().data.at("error_class").as_string() == "loop_bound");
}

TEST_CASE("an expression error fails the step as non-retryable and the run fails with its class") {
  auto def = compiled(R"({
    "format": 1, "name": "x", "input": {"n": "number"}, "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "div", "type": "action", "action": {"kind": "set", "values": {"q": "10 / input.n"}}},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "div"}, {"from": "div", "to": "done"}]})");
  run::State s;
  run::Context c;
  auto step = start(*def, s, c, info_for({{"n", 0}}), kT0);
  CHECK(s.status == run::Status::failed);
  CHECK(trace(step.events).back() == "failed div");
  CHECK(step.events.back().data.at("error_class").as_string() == "expression");
}

TEST_CASE("a wait node takes the correlated event, or its timeout edge when none arrives in time") {
  auto def = compiled(R"({
    "format": 1, "name": "w", "input": {"sub": "string"}, "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "paid", "type": "wait", "event_type": "payment.succeeded", "correlation": "input.sub",
       "timeout_ms": 5000},
      {"id": "late", "type": "action", "action": {"kind": "set", "values": {"late": "true"}}},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "paid"}, {"from": "paid", "to": "done"},
              {"from": "paid", "to": "late", "when": "timeout"}, {"from": "late", "to": "done"}]})");
  {
    run::State s;
    run::Context c;
    start(*def, s, c, info_for({{"sub", "sub_9"}}), kT0);
    CHECK(waiting_for(s, "payment.succeeded", "sub_9", kT0).size() == 1);
    CHECK(waiting_for(s, "payment.succeeded", "sub_9", kT0 - 1).empty());  // recorded before the wait
    CHECK(waiting_for(s, "payment.succeeded", "sub_8", kT0).empty());
    Arrival a{"paid", 1, "payment.succeeded", 42, json::object{{"amount", 10}}};
    auto got = advance(*def, s, c, {}, {a}, kT0 + 1);
    CHECK(trace(got.events).front() == "event_received paid");
    CHECK(s.status == run::Status::completed);
    CHECK(c.steps.at("paid").at("payload").at("amount").as_int64() == 10);
  }
  {
    run::State s;
    run::Context c;
    start(*def, s, c, info_for({{"sub", "sub_9"}}), kT0);
    auto late = advance(*def, s, c, {}, {}, kT0 + 5'000'000);
    CHECK(trace(late.events).front() == "timer_fired paid");
    CHECK(s.status == run::Status::completed);
    CHECK(c.vars.at("late").as_bool());
  }
}

TEST_CASE("a duplicate outcome for an attempt already answered writes nothing") {
  auto def = compiled(kFiveNodes);
  run::State s;
  run::Context c;
  auto step = start(*def, s, c, info_for({{"plan", "pro"}, {"seats", 9}}), kT0);
  auto fx = step.effects.at(0);
  // The first outcome is matched to the attempt and answers it: without this, the duplicate writing
  // nothing would prove nothing (an outcome matching no attempt writes nothing either).
  auto first = advance(*def, s, c, {outcome(fx, false, "http_5xx")}, {}, kT0 + 1);
  REQUIRE(trace(first.events) == std::vector<std::string>{"step_failed hook", "retry_scheduled hook"});
  auto again = advance(*def, s, c, {outcome(fx, false, "http_5xx")}, {}, kT0 + 2);
  CHECK(again.events.empty());
  CHECK(again.effects.empty());
}

TEST_CASE("pending effects re-render the unanswered attempts identically (what a restart sends again)") {
  auto def = compiled(kFiveNodes);
  run::State s;
  run::Context c;
  auto step = start(*def, s, c, info_for({{"plan", "pro"}, {"seats", 9}}), kT0);
  auto again = pending_effects(*def, s, c);
  REQUIRE(again.size() == 1);
  CHECK(again[0].body == step.effects[0].body);
  CHECK(again[0].idempotency_key == step.effects[0].idempotency_key);
  CHECK(again[0].attempt == step.effects[0].attempt);
}

TEST_CASE("input is checked against the declared fields: unknown and mistyped fields are refused with a pointer") {
  auto def = compiled(kFiveNodes);
  auto bad_type = check_input(*def, json::object{{"plan", 3}});
  REQUIRE_FALSE(bad_type.ok());
  CHECK(bad_type.error().pointer == "/input/plan");
  auto unknown = check_input(*def, json::object{{"plna", "pro"}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().pointer == "/input/plna");
  auto fine = check_input(*def, json::object{{"plan", "pro"}});
  REQUIRE(fine.ok());
  CHECK(fine->at("seats").is_null());
}

TEST_CASE("a dry-run skips delays and back-offs on a virtual clock and reports the exact events") {
  auto def = compiled(kFiveNodes);
  std::map<std::string, std::vector<json::object>> mocks;
  mocks["hook"].push_back(json::object{{"error_class", "http_5xx"}, {"error", "down"}});
  mocks["hook"].push_back(json::object{{"output", ok_output(201)}});
  auto result = dry_run(*def, info_for({{"plan", "pro"}, {"seats", 9}}), mocks, kT0);
  CHECK(result.status == "completed");
  CHECK(result.warnings.empty());
  CHECK(result.ended_at_us == kT0 + 1'000'000);  // one back-off of 1 s, skipped
  std::vector<DraftEvent> drafts;
  for (const auto& e : result.events) drafts.push_back(DraftEvent{e.type, 1, e.data, {}});
  auto t = trace(drafts);
  CHECK(std::count(t.begin(), t.end(), "step_started hook") == 2);
  CHECK(t.back() == "completed");

  // The same outcomes fed to the interpreter by hand give the same events.
  run::State s;
  run::Context c;
  std::vector<DraftEvent> real;
  auto add = [&](Step st) { for (auto& e : st.events) real.push_back(std::move(e)); return st; };
  auto s1 = add(start(*def, s, c, info_for({{"plan", "pro"}, {"seats", 9}}), kT0));
  add(advance(*def, s, c, {outcome(s1.effects.at(0), false, "http_5xx")}, {}, kT0));
  auto s3 = add(advance(*def, s, c, {}, {}, kT0 + 1'000'000));
  Outcome ok = outcome(s3.effects.at(0), true);
  ok.output = ok_output(201);
  add(advance(*def, s, c, {ok}, {}, kT0 + 1'000'000));
  REQUIRE(real.size() == result.events.size());
  for (std::size_t i = 0; i < real.size(); ++i) {
    CHECK(real[i].type == result.events[i].type);
    if (real[i].type != "run.step_failed")
      CHECK(json::serialize(real[i].data) == json::serialize(result.events[i].data));
  }
}

TEST_CASE("a dry-run without mocks assumes success and says so in its warnings") {
  auto def = compiled(kFiveNodes);
  auto result = dry_run(*def, info_for({{"plan", "pro"}, {"seats", 9}}), {}, kT0);
  CHECK(result.status == "completed");
  REQUIRE(result.warnings.size() == 1);
  CHECK(result.warnings[0].find("hook") != std::string::npos);
}

TEST_CASE("a run that has not ended by its timeout_ms fails with the timeout class, even while waiting") {
  auto def = compiled(R"({
    "format": 1, "name": "t", "timeout_ms": 10000, "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "pause", "type": "delay", "duration_ms": 60000},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "pause"}, {"from": "pause", "to": "done"}]})");
  run::State s;
  run::Context c;
  auto step = start(*def, s, c, info_for(), kT0);
  CHECK(step.next_due_us == kT0 + 10'000'000);  // the run timeout comes before the delay
  auto late = advance(*def, s, c, {}, {}, kT0 + 10'000'000);
  CHECK(s.status == run::Status::failed);
  CHECK(trace(late.events) == std::vector<std::string>{"timer_fired", "failed"});
  CHECK(late.events.back().data.at("error_class").as_string() == "timeout");
}

TEST_CASE("cancelling a run clears its live nodes and later outcomes write nothing") {
  auto def = compiled(kFiveNodes);
  run::State s;
  run::Context c;
  auto step = start(*def, s, c, info_for({{"plan", "pro"}, {"seats", 9}}), kT0);
  auto cancelled = cancel(s, "not needed", kT0 + 1);
  CHECK(trace(cancelled.events) == std::vector<std::string>{"cancelled"});
  CHECK(s.status == run::Status::cancelled);
  CHECK(s.pending.empty());
  CHECK(advance(*def, s, c, {outcome(step.effects.at(0), true)}, {}, kT0 + 2).events.empty());
}

TEST_CASE("an email whose to renders null or no address fails the step visibly, and validation warns of input reads") {
  const char* text = R"({
    "format": 1, "name": "mail", "input": {"email": "string", "user_id": "string"}, "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "mail", "type": "action", "action": {"kind": "email", "to": "input.email", "subject": "Hi",
       "text": "ends on {{ input.email }}"}},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "mail"}, {"from": "mail", "to": "done"}]})";
  auto def = compiled(text);
  for (const json::object& input : {json::object{}, json::object{{"email", "not an address"}},
                                    json::object{{"email", "a@b@c"}}, json::object{{"email", "x@y, z@w"}}}) {
    CAPTURE(json::serialize(input));
    run::State s;
    run::Context c;
    auto step = start(*def, s, c, info_for(input), kT0);
    CHECK(s.status == run::Status::failed);
    CHECK(trace(step.events).back() == "failed mail");
    const std::string error(step.events.back().data.at("error").as_string());
    CHECK(error.find("must be an email address") != std::string::npos);
    for (const auto& e : step.events) CHECK(e.type != "run.event_emitted");
  }
  run::State s;
  run::Context c;
  start(*def, s, c, info_for({{"email", "ann@example.com"}}), kT0);
  CHECK(s.status == run::Status::completed);

  // Validation warns where the trigger can never give the address: a schedule
  // (no input), an engine event without that field; not a manual start.
  auto warns = [](const std::string& trigger) {
    std::string doc = R"({"format": 1, "name": "mail", "input": {"email": "string"}, "nodes": [
      {"id": "start", "type": "trigger", "trigger": )" + trigger + R"(},
      {"id": "mail", "type": "action", "action": {"kind": "email", "to": "input.email", "subject": "Hi", "text": "x"}},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "mail"}, {"from": "mail", "to": "done"}]})";
    auto report = validate(json::parse(doc), testing::embedded_registry()).to_json();
    CAPTURE(json::serialize(report));
    CHECK(report.at("valid").as_bool());
    for (const auto& w : report.at("warnings").as_array())
      if (w.at("pointer") == json::value("/nodes/1/action/to")) return true;
    return false;
  };
  CHECK(warns(R"({"kind": "schedule", "cron": "0 9 * * *"})"));
  CHECK(warns(R"({"kind": "event", "event_type": "session.started"})"));
  CHECK_FALSE(warns(R"({"kind": "event", "event_type": "user.signed_up"})"));
  CHECK_FALSE(warns(R"({"kind": "event", "event_type": "invoice.created"})"));
  CHECK_FALSE(warns(R"({"kind": "manual"})"));
}
