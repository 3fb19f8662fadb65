#include <doctest/doctest.h>

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "engine/schema_registry.h"
#include "support/schemas.h"
#include "engine/workflow/definition.h"

using namespace causeway;
using namespace causeway::workflow;
namespace json = boost::json;

namespace {

const SchemaRegistry& registry() { return testing::embedded_registry(); }

// The example of docs/workflows.md.
const char* kExample = R"({
  "format": 1,
  "name": "Trial ending reminder",
  "description": "optional text",
  "input": { "email": "string", "plan": "string", "seats": "number" },
  "timeout_ms": 86400000,
  "stuck_after_ms": 3600000,
  "nodes": [
    { "id": "start", "type": "trigger", "trigger": { "kind": "manual" } },
    { "id": "big", "type": "condition", "expression": "input.seats > 5 && input.plan == 'pro'" },
    { "id": "hook", "type": "action",
      "action": { "kind": "http", "method": "POST", "url": "http://127.0.0.1:9000/hook",
                  "headers": { "X-Plan": "{{ input.plan }}" }, "body": "{\"seats\": {{ input.seats }}}" },
      "retry": { "initial_interval_ms": 1000, "backoff_coefficient": 2.0, "maximum_interval_ms": 60000,
                 "maximum_attempts": 5, "jitter": 0.2, "non_retryable": ["http_4xx"] },
      "timeout_ms": 5000 },
    { "id": "note", "type": "action", "action": { "kind": "set", "values": { "notified": "true" } } },
    { "id": "done", "type": "end" }
  ],
  "edges": [
    { "from": "start", "to": "big" },
    { "from": "big", "to": "hook", "when": "true" },
    { "from": "big", "to": "done", "when": "false" },
    { "from": "hook", "to": "note" },
    { "from": "note", "to": "done" }
  ]
})";

json::value example() { return json::parse(kExample); }

// A definition with these nodes and edges (JSON arrays) and input fields.
json::value graph(std::string_view nodes, std::string_view edges,
                  std::string_view input = R"({"plan": "string", "seats": "number", "meta": "object"})") {
  return json::parse(fmt::format(R"({{"format": 1, "name": "t", "input": {}, "nodes": {}, "edges": {}}})", input,
                                 nodes, edges));
}

// trigger -> [middle...] -> done, for tests about one node in the middle.
json::value line(std::string_view middle_node) {
  return graph(fmt::format(R"([{{"id": "start", "type": "trigger", "trigger": {{"kind": "manual"}}}}, {},
                               {{"id": "done", "type": "end"}}])",
                           middle_node),
               R"([{"from": "start", "to": "mid"}, {"from": "mid", "to": "done"}])");
}

Report run(const json::value& v) { return validate(v, registry()); }

const Problem* find(const std::vector<Problem>& ps, std::string_view pointer) {
  for (const auto& p : ps)
    if (p.pointer == pointer) return &p;
  return nullptr;
}

// The error at `pointer`; fails the test (showing the report) when none.
Problem error_at(const Report& r, std::string_view pointer) {
  INFO(json::serialize(r.to_json()));
  auto* p = find(r.errors, pointer);
  REQUIRE(p != nullptr);
  return *p;
}

void check_valid(const Report& r) {
  INFO(json::serialize(r.to_json()));
  CHECK(r.ok());
  CHECK(r.warnings.empty());
}

json::object& node_of(json::value& doc, std::size_t i) { return doc.at("nodes").as_array()[i].as_object(); }

}  // namespace

TEST_CASE("the documented example is valid") { check_valid(run(example())); }

TEST_CASE("a valid definition compiles with its edges wired by index") {
  auto def = compile(example(), registry());
  REQUIRE(def.ok());
  const auto& d = **def;
  CHECK(d.name == "Trial ending reminder");
  CHECK(d.timeout_ms == 86400000);
  CHECK(d.stuck_after_ms == 3600000);
  REQUIRE(d.input.size() == 3);
  CHECK(d.input[0] == std::pair<std::string, Type>{"email", Type::string});
  CHECK(d.input[2] == std::pair<std::string, Type>{"seats", Type::number});
  REQUIRE(d.nodes.size() == 5);
  CHECK(d.trigger == 0);
  CHECK(d.index.at("hook") == 2);
  const auto &start = d.nodes[0], &big = d.nodes[1], &hook = d.nodes[2], &note = d.nodes[3], &done = d.nodes[4];
  CHECK(start.type == NodeType::trigger);
  CHECK(start.trigger.kind == "manual");
  CHECK(start.next == std::vector<int>{1});
  CHECK(big.type == NodeType::condition);
  REQUIRE(big.expression);
  CHECK(big.on_true == 2);
  CHECK(big.on_false == 4);
  CHECK(big.next.empty());
  CHECK(hook.action.kind == ActionKind::http);
  CHECK(hook.action.method == "POST");
  REQUIRE(hook.action.headers.size() == 1);
  CHECK(hook.action.headers[0].first == "X-Plan");
  CHECK(hook.next == std::vector<int>{3});
  CHECK(hook.on_error == -1);
  CHECK(hook.timeout_ms == 5000);
  CHECK(hook.retry.maximum_attempts == 5);
  CHECK(hook.retry.maximum_interval_ms == 60000);
  CHECK(hook.retry.jitter == doctest::Approx(0.2));
  CHECK(hook.retry.non_retryable == std::set<std::string>{"http_4xx"});
  CHECK(note.action.kind == ActionKind::set);
  REQUIRE(note.action.values.size() == 1);
  CHECK(note.action.values[0].first == "notified");
  CHECK(note.next == std::vector<int>{4});
  CHECK(done.type == NodeType::end);
  CHECK(done.next.empty());
  CHECK(done.incoming == std::vector<int>{1, 3});

  // The templates render against a context.
  auto ctx = json::parse(R"({"input": {"plan": "pro", "seats": 7}, "vars": {}, "steps": {}})").as_object();
  CHECK(*render(hook.action.body, ctx) == R"({"seats": 7})");
}

TEST_CASE("compile refuses an invalid definition with the first error's pointer") {
  auto doc = example();
  doc.at("edges").as_array()[3].as_object()["to"] = "notfy";
  auto def = compile(doc, registry());
  REQUIRE_FALSE(def.ok());
  CHECK(def.error().code == Errc::invalid);
  CHECK(def.error().pointer == "/edges/3/to");
  CHECK(def.error().message == "edge 3 goes to 'notfy', which is not a node");
}

TEST_CASE("the report renders as {valid, errors, warnings} and can be prefixed") {
  auto doc = example();
  doc.at("edges").as_array()[3].as_object()["to"] = "notx";
  auto r = run(doc);
  auto j = r.to_json();
  CHECK(j.at("valid") == json::value(false));
  REQUIRE(j.at("errors").as_array().size() >= 1);
  auto& first = j.at("errors").as_array()[0].as_object();
  CHECK(first.contains("pointer"));
  CHECK(first.contains("message"));
  CHECK(first.contains("fix"));
  CHECK(j.at("warnings").as_array().empty());
  CHECK(find(r.prefixed("/definition").errors, "/definition/edges/3/to") != nullptr);
}

TEST_CASE("schema: an unknown field is reported at its pointer with a fix") {
  auto doc = example();
  node_of(doc, 1)["colour"] = "red";
  auto p = error_at(run(doc), "/nodes/1/colour");
  CHECK(p.message == "'colour' is not a field here");
  CHECK(p.fix.starts_with("remove it"));
}

TEST_CASE("schema: a missing required field and a bad id pattern are reported") {
  auto doc = example();
  doc.as_object().erase("name");
  node_of(doc, 4)["id"] = "Done";
  auto r = run(doc);
  auto p = error_at(r, "/name");  // points at the missing field
  CHECK(p.message == "\"name\" is missing");
  CHECK(p.fix == "add \"name\"");
  error_at(r, "/nodes/4/id");
}

TEST_CASE("schema: a value outside an enum names the allowed values; a wrong type names the type") {
  auto doc = example();
  node_of(doc, 4)["type"] = "finish";
  node_of(doc, 1)["expression"] = 5;
  doc.as_object()["format"] = 2;
  auto r = run(doc);
  auto p = error_at(r, "/nodes/4/type");
  CHECK(p.message == "not one of the allowed values");
  CHECK(p.fix == R"(use one of "trigger", "condition", "action", "delay", "wait", "parallel", "join", "end")");
  auto q = error_at(r, "/nodes/1/expression");
  CHECK(q.message == "must be a string");
  CHECK(q.fix == "use a string");
  CHECK(error_at(r, "/format").message == "must be 1");
}

TEST_CASE("schema: more than 500 nodes are refused") {
  auto doc = example();
  auto& nodes = doc.at("nodes").as_array();
  for (int i = 0; i < 500; ++i) nodes.push_back(json::object{{"id", fmt::format("n{}", i)}, {"type", "end"}});
  auto r = run(doc);
  CHECK_FALSE(r.ok());
  error_at(r, "/nodes");
}

TEST_CASE("a document that is not an object is one error at the root") {
  auto r = run(json::value(42));
  REQUIRE(r.errors.size() >= 1);
  CHECK(r.errors[0].pointer == "");
}

TEST_CASE("node ids must be unique") {
  auto doc = example();
  node_of(doc, 3)["id"] = "hook";
  auto p = error_at(run(doc), "/nodes/3/id");
  CHECK(p.message == "node id 'hook' is also the id of node 2");
  CHECK(p.fix == "give every node its own id");
}

TEST_CASE("a definition needs exactly one trigger") {
  auto none = example();
  node_of(none, 0)["type"] = "end";
  node_of(none, 0).erase("trigger");
  auto p = error_at(run(none), "/nodes");
  CHECK(p.message == "there is no trigger node");

  auto two = example();
  two.at("nodes").as_array().push_back(
      json::parse(R"({"id": "again", "type": "trigger", "trigger": {"kind": "manual"}})"));
  two.at("edges").as_array().push_back(json::parse(R"({"from": "again", "to": "done"})"));
  auto q = error_at(run(two), "/nodes/5/type");
  CHECK(q.message == "'again' is a second trigger node (the first is 'start')");
}

TEST_CASE("an edge to a missing node suggests the nearest id") {
  auto doc = example();
  node_of(doc, 3)["id"] = "notify";
  doc.at("edges").as_array()[3].as_object()["to"] = "notfy";
  doc.at("edges").as_array()[4].as_object()["from"] = "notify";
  auto p = error_at(run(doc), "/edges/3/to");
  CHECK(p.message == "edge 3 goes to 'notfy', which is not a node");
  CHECK(p.fix == "did you mean 'notify'?");
}

TEST_CASE("an edge from a missing node without a near id says to use an existing one") {
  auto doc = example();
  doc.at("edges").as_array()[4].as_object()["from"] = "zzzzzzzz";
  auto p = error_at(run(doc), "/edges/4/from");
  CHECK(p.message == "edge 4 comes from 'zzzzzzzz', which is not a node");
  CHECK(p.fix == "use the id of an existing node");
}

TEST_CASE("a label is valid only from its source type") {
  auto doc = example();
  doc.at("edges").as_array()[4].as_object()["when"] = "true";  // from the set action 'note'
  auto p = error_at(run(doc), "/edges/4/when");
  CHECK(p.message == "edge 4 from action 'note' is labelled \"true\", which only condition nodes take");
  CHECK(p.fix == R"(remove "when", or use "error" for the path taken when the action fails)");
}

TEST_CASE("a condition needs one true and one false edge, and no unlabelled one") {
  auto doc = example();
  doc.at("edges").as_array()[2].as_object().erase("when");
  auto r = run(doc);
  auto p = error_at(r, "/nodes/1");
  CHECK(p.message == "condition 'big' has no \"when\": \"false\" edge");
  CHECK(p.fix == R"(add an edge {"from": "big", "to": "<node>", "when": "false"})");
  CHECK(error_at(r, "/edges/2").message == "edge 2 leaves condition 'big' without \"when\"");
}

TEST_CASE("two edges with the same label from one node are an error") {
  auto doc = example();
  doc.at("edges").as_array()[2].as_object()["when"] = "true";
  auto r = run(doc);
  auto p = error_at(r, "/edges/2/when");
  CHECK(p.message == "'big' has two \"true\" edges (edges 1 and 2)");
  CHECK(p.fix == "keep one of them");
}

TEST_CASE("an action with two unlabelled edges is told to use a parallel node") {
  auto doc = example();
  doc.at("edges").as_array().push_back(json::parse(R"({"from": "hook", "to": "done"})"));
  auto p = error_at(run(doc), "/edges/5");
  CHECK(p.message == "action node 'hook' has a second outgoing edge (the first is edge 3)");
  CHECK(p.fix == "keep one; to run branches at the same time, go to a parallel node");
}

TEST_CASE("a node without its outgoing edge is reported at the node") {
  auto doc = example();
  doc.at("edges").as_array().erase(doc.at("edges").as_array().begin() + 4);  // note -> done
  auto p = error_at(run(doc), "/nodes/3");
  CHECK(p.message == "action node 'note' has no outgoing edge");
  CHECK(p.fix == "add an edge from 'note' to the next node (an end node to finish)");
}

TEST_CASE("an end node has no outgoing edge") {
  auto doc = example();
  doc.at("edges").as_array().push_back(json::parse(R"({"from": "done", "to": "note"})"));
  auto r = run(doc);
  auto p = error_at(r, "/edges/5");
  CHECK(p.message == "edge 5 leaves end node 'done'");
}

TEST_CASE("an edge into the trigger is an error") {
  auto doc = example();
  doc.at("edges").as_array()[4].as_object()["to"] = "start";
  auto p = error_at(run(doc), "/edges/4/to");
  CHECK(p.message == "edge 4 goes into the trigger 'start'");
}

TEST_CASE("a repeated edge is an error") {
  auto doc = example();
  doc.at("edges").as_array().push_back(json::parse(R"({"from": "note", "to": "done"})"));
  auto p = error_at(run(doc), "/edges/5");
  CHECK(p.message == "edge 5 repeats edge 4");
}

TEST_CASE("a parallel node needs two branches") {
  auto r = run(line(R"({"id": "mid", "type": "parallel"})"));
  auto p = error_at(r, "/nodes/1");
  CHECK(p.message == "parallel node 'mid' has 1 branch; it needs two or more");
}

TEST_CASE("a node the trigger cannot reach is an error") {
  auto doc = example();
  doc.at("nodes").as_array().push_back(json::parse(R"({"id": "orphan", "type": "end"})"));
  auto p = error_at(run(doc), "/nodes/5");
  CHECK(p.message == "node 'orphan' cannot be reached from the trigger");
  CHECK(p.fix == "add an edge to 'orphan', or remove it");
}

TEST_CASE("a cycle needs a node with max_visits") {
  auto doc = graph(R"([{"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
                       {"id": "again", "type": "condition", "expression": "vars.n < 3"},
                       {"id": "inc", "type": "action", "action": {"kind": "set", "values": {"n": "1"}}},
                       {"id": "done", "type": "end"}])",
                   R"([{"from": "start", "to": "inc"}, {"from": "inc", "to": "again"},
                       {"from": "again", "to": "inc", "when": "true"}, {"from": "again", "to": "done", "when": "false"}])");
  auto p = error_at(run(doc), "/nodes/1");
  CHECK(p.message == "nodes 'again', 'inc' form a cycle and no node of it has max_visits");
  CHECK(p.fix == "add \"max_visits\" (e.g. 10) to one of them, e.g. 'again'");
  node_of(doc, 2)["max_visits"] = 10;
  check_valid(run(doc));
}

TEST_CASE("a node looping to itself is a cycle") {
  auto doc = graph(R"([{"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
                       {"id": "poll", "type": "action", "action": {"kind": "http", "method": "GET", "url": "http://x/"}},
                       {"id": "done", "type": "end"}])",
                   R"([{"from": "start", "to": "poll"}, {"from": "poll", "to": "poll"},
                       {"from": "poll", "to": "done", "when": "error"}])");
  auto p = error_at(run(doc), "/nodes/1");
  CHECK(p.message == "node 'poll' forms a cycle and no node of it has max_visits (it loops to itself)");
}

namespace {
// start -> fork (parallel) -> a, b -> both (join) -> done
const char* kForkNodes = R"([{"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
  {"id": "fork", "type": "parallel"},
  {"id": "a", "type": "action", "action": {"kind": "set", "values": {"x": "1"}}},
  {"id": "b", "type": "action", "action": {"kind": "http", "method": "GET", "url": "http://x/"}},
  {"id": "both", "type": "join"},
  {"id": "done", "type": "end"}])";
const char* kForkEdges = R"([{"from": "start", "to": "fork"}, {"from": "fork", "to": "a"}, {"from": "fork", "to": "b"},
  {"from": "a", "to": "both"}, {"from": "b", "to": "both"}, {"from": "both", "to": "done"}])";
}  // namespace

TEST_CASE("a join after the branches of a parallel node is valid and wired") {
  auto doc = graph(kForkNodes, kForkEdges);
  check_valid(run(doc));
  auto def = compile(doc, registry());
  REQUIRE(def.ok());
  CHECK((*def)->nodes[1].next == std::vector<int>{2, 3});
  CHECK((*def)->nodes[4].incoming == std::vector<int>{2, 3});
  CHECK((*def)->nodes[4].next == std::vector<int>{5});
}

TEST_CASE("a join with one incoming edge can never fire") {
  auto doc = line(R"({"id": "mid", "type": "join"})");
  auto p = error_at(run(doc), "/nodes/1");
  CHECK(p.message == "join 'mid' has 1 incoming edge; it needs two or more");
}

TEST_CASE("a join fed by both outcomes of one condition can never fire") {
  auto doc = graph(R"([{"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
                       {"id": "big", "type": "condition", "expression": "input.seats > 5"},
                       {"id": "both", "type": "join"},
                       {"id": "done", "type": "end"}])",
                   R"([{"from": "start", "to": "big"}, {"from": "big", "to": "both", "when": "true"},
                       {"from": "big", "to": "both", "when": "false"}, {"from": "both", "to": "done"}])");
  auto p = error_at(run(doc), "/nodes/2");
  CHECK(p.message ==
        "join 'both' can never fire: its incoming edges (from 'big', 'big') are not on distinct branches of one "
        "parallel node");
  CHECK(p.fix.find("parallel node") != std::string::npos);
}

TEST_CASE("a join whose two edges lie on one branch of a parallel node can never fire") {
  // fork -> c (condition) -> a | b -> join; fork -> other -> done
  auto doc = graph(R"([{"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
                       {"id": "fork", "type": "parallel"},
                       {"id": "c", "type": "condition", "expression": "input.seats > 5"},
                       {"id": "other", "type": "delay", "duration_ms": 10},
                       {"id": "both", "type": "join"},
                       {"id": "done", "type": "end"},
                       {"id": "end2", "type": "end"}])",
                   R"([{"from": "start", "to": "fork"}, {"from": "fork", "to": "c"}, {"from": "fork", "to": "other"},
                       {"from": "c", "to": "both", "when": "true"}, {"from": "c", "to": "both", "when": "false"},
                       {"from": "other", "to": "end2"}, {"from": "both", "to": "done"}])");
  CHECK(error_at(run(doc), "/nodes/4").message.starts_with("join 'both' can never fire"));
}

TEST_CASE("a fork and join nested inside one branch is valid") {
  // start -> outer -> (x -> inner -> (c, e) -> j2 -> y -> j1), (z -> j1) -> done
  auto doc = graph(R"([{"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
                       {"id": "outer", "type": "parallel"},
                       {"id": "x", "type": "delay", "duration_ms": 1},
                       {"id": "inner", "type": "parallel"},
                       {"id": "c", "type": "delay", "duration_ms": 1},
                       {"id": "e", "type": "delay", "duration_ms": 1},
                       {"id": "j2", "type": "join"},
                       {"id": "y", "type": "delay", "duration_ms": 1},
                       {"id": "z", "type": "delay", "duration_ms": 1},
                       {"id": "j1", "type": "join"},
                       {"id": "done", "type": "end"}])",
                   R"([{"from": "start", "to": "outer"}, {"from": "outer", "to": "x"}, {"from": "outer", "to": "z"},
                       {"from": "x", "to": "inner"}, {"from": "inner", "to": "c"}, {"from": "inner", "to": "e"},
                       {"from": "c", "to": "j2"}, {"from": "e", "to": "j2"}, {"from": "j2", "to": "y"},
                       {"from": "y", "to": "j1"}, {"from": "z", "to": "j1"}, {"from": "j1", "to": "done"}])");
  check_valid(run(doc));
}

TEST_CASE("a join after a merged fork, fed by both outcomes of a condition, can never fire") {
  // fork -> (a, b) -> j0 -> c -> true: j, false: d -> j
  auto doc = graph(R"([{"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
                       {"id": "fork", "type": "parallel"},
                       {"id": "a", "type": "delay", "duration_ms": 1},
                       {"id": "b", "type": "delay", "duration_ms": 1},
                       {"id": "j0", "type": "join"},
                       {"id": "c", "type": "condition", "expression": "input.seats > 1"},
                       {"id": "d", "type": "delay", "duration_ms": 1},
                       {"id": "j", "type": "join"},
                       {"id": "done", "type": "end"}])",
                   R"([{"from": "start", "to": "fork"}, {"from": "fork", "to": "a"}, {"from": "fork", "to": "b"},
                       {"from": "a", "to": "j0"}, {"from": "b", "to": "j0"}, {"from": "j0", "to": "c"},
                       {"from": "c", "to": "j", "when": "true"}, {"from": "c", "to": "d", "when": "false"},
                       {"from": "d", "to": "j"}, {"from": "j", "to": "done"}])");
  auto r = run(doc);
  CHECK(error_at(r, "/nodes/7").message.starts_with("join 'j' can never fire"));
  CHECK(find(r.errors, "/nodes/4") == nullptr);  // j0 is fine
}

TEST_CASE("a join a branch may reach on another branch's edge fires only on some paths") {
  // fork -> a, b, c; a -> j; b -> j; c (condition) true: j, false: a
  auto doc = graph(R"([{"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
                       {"id": "fork", "type": "parallel"},
                       {"id": "a", "type": "delay", "duration_ms": 1, "max_visits": 2},
                       {"id": "b", "type": "delay", "duration_ms": 1},
                       {"id": "c", "type": "condition", "expression": "input.seats > 1"},
                       {"id": "j", "type": "join"},
                       {"id": "done", "type": "end"}])",
                   R"([{"from": "start", "to": "fork"}, {"from": "fork", "to": "a"}, {"from": "fork", "to": "b"},
                       {"from": "fork", "to": "c"}, {"from": "a", "to": "j"}, {"from": "b", "to": "j"},
                       {"from": "c", "to": "j", "when": "true"}, {"from": "c", "to": "a", "when": "false"},
                       {"from": "j", "to": "done"}])");
  auto r = run(doc);
  INFO(json::serialize(r.to_json()));
  CHECK(r.ok());
  auto* w = find(r.warnings, "/nodes/5");
  REQUIRE(w != nullptr);
  CHECK(w->message ==
        "join 'j' fires only on some paths: the branch of parallel 'fork' to 'c' can arrive on another edge (edge 4)");
}

TEST_CASE("a join that a branch may bypass fires only on some paths: a warning") {
  auto doc = graph(kForkNodes, kForkEdges);
  // b's failure path goes to the end without reaching the join.
  doc.at("edges").as_array().push_back(json::parse(R"({"from": "b", "to": "done", "when": "error"})"));
  auto r = run(doc);
  INFO(json::serialize(r.to_json()));
  CHECK(r.ok());
  auto* w = find(r.warnings, "/nodes/4");
  REQUIRE(w != nullptr);
  CHECK(w->message == "join 'both' fires only on some paths: the branch of parallel 'fork' to 'b' can reach end "
                      "node 'done' instead");
  CHECK(compile(doc, registry()).ok());
}

TEST_CASE("an expression that does not parse is reported at its field with the offset") {
  auto doc = example();
  node_of(doc, 1)["expression"] = "input.seats > ";
  auto p = error_at(run(doc), "/nodes/1/expression");
  CHECK(p.message == "the expression does not parse: at offset 14: expected an operand, found end of expression");
}

TEST_CASE("a template that does not parse is reported at its field") {
  auto doc = example();
  node_of(doc, 2)["action"].as_object()["url"] = "http://x/{{ input.plan";
  auto r = run(doc);
  auto p = error_at(r, "/nodes/2/action/url");
  CHECK(p.message.starts_with("the template does not parse: at offset 22: expected '}}'"));
  node_of(doc, 2)["action"].as_object()["headers"].as_object()["X-Plan"] = "{{ + }}";
  error_at(run(doc), "/nodes/2/action/headers/X-Plan");
}

TEST_CASE("an undeclared input field is unknown, with the nearest name as the fix") {
  auto doc = example();
  node_of(doc, 1)["expression"] = "input.plna == 'pro'";
  auto p = error_at(run(doc), "/nodes/1/expression");
  CHECK(p.message == "unknown variable 'input.plna'");
  CHECK(p.fix == "did you mean 'input.plan'?");
  node_of(doc, 1)["expression"] = "input.region == 'eu'";
  CHECK(error_at(run(doc), "/nodes/1/expression").fix == R"(declare it in "input", e.g. "region": "string")");
}

TEST_CASE("a variable no set action writes is unknown") {
  auto doc = example();
  node_of(doc, 1)["expression"] = "vars.notified";
  check_valid(run(doc));  // 'note' sets it to a boolean
  node_of(doc, 1)["expression"] = "vars.sent == true";
  auto p = error_at(run(doc), "/nodes/1/expression");
  CHECK(p.message == "unknown variable 'vars.sent'");
  CHECK(p.fix == "add a set action that writes 'sent'");
}

TEST_CASE("steps of a node that is not an action or wait are unknown") {
  auto doc = example();
  node_of(doc, 2)["action"].as_object()["body"] = "{{ steps.big }}";
  auto p = error_at(run(doc), "/nodes/2/action/body");
  CHECK(p.message == "unknown variable 'steps.big'");
  CHECK(p.fix == "'big' is a condition node and has no output; steps.<id> reads action and wait nodes");
}

TEST_CASE("action outputs are typed: http status is a number") {
  auto doc = example();
  node_of(doc, 3)["action"].as_object()["values"] = json::parse(R"({"ok": "steps.hook.status == 'x'"})");
  auto p = error_at(run(doc), "/nodes/3/action/values/ok");
  CHECK(p.message == "'==' compares number with string (never equal)");
  node_of(doc, 3)["action"].as_object()["values"] = json::parse(R"({"ok": "steps.hook.stauts"})");
  CHECK(error_at(run(doc), "/nodes/3/action/values/ok").fix == "did you mean 'steps.hook.status'?");
  node_of(doc, 3)["action"].as_object()["values"] = json::parse(R"({"ok": "steps.hook.body.anything.deep"})");
  check_valid(run(doc));
}

TEST_CASE("incompatible types in an expression are an error") {
  auto doc = example();
  node_of(doc, 1)["expression"] = "input.seats < input.plan";
  auto p = error_at(run(doc), "/nodes/1/expression");
  CHECK(p.message == "'<' compares number with string");
  CHECK(p.fix == "convert one side with string() or number()");
}

TEST_CASE("a condition must give a boolean") {
  auto doc = example();
  node_of(doc, 1)["expression"] = "input.seats + 1";
  auto p = error_at(run(doc), "/nodes/1/expression");
  CHECK(p.message == "condition 'big' gives a number, not a boolean");
  CHECK(p.fix == "make it a comparison, e.g. \"input.seats > 5\"");
}

TEST_CASE("a variable set to two different known types is an error; its type flows into expressions") {
  auto doc = graph(R"([{"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
                       {"id": "one", "type": "action", "action": {"kind": "set", "values": {"count": "1"}}},
                       {"id": "two", "type": "action", "action": {"kind": "set", "values": {"count": "'many'"}}},
                       {"id": "done", "type": "end"}])",
                   R"([{"from": "start", "to": "one"}, {"from": "one", "to": "two"}, {"from": "two", "to": "done"}])");
  auto p = error_at(run(doc), "/nodes/2/action/values/count");
  CHECK(p.message == "variable 'count' is set to a string here and to a number at /nodes/1/action/values/count");

  node_of(doc, 2)["action"].as_object()["values"] = json::parse(R"({"next": "vars.count + 1", "label": "vars.count > 'a'"})");
  auto r = run(doc);
  CHECK(error_at(r, "/nodes/2/action/values/label").message == "'>' compares number with string");
}

TEST_CASE("a bad cron is reported at the trigger's cron") {
  auto doc = example();
  node_of(doc, 0)["trigger"] = json::parse(R"({"kind": "schedule", "cron": "61 * * * *"})");
  auto p = error_at(run(doc), "/nodes/0/trigger/cron");
  CHECK(p.message == "the cron schedule does not parse: cron minute field: expected a number from 0 to 59, found '61'");
  node_of(doc, 0)["trigger"] = json::parse(R"({"kind": "schedule", "cron": "0 9 * * 1"})");
  check_valid(run(doc));
}

TEST_CASE("each node type and trigger kind needs its fields and takes no others") {
  auto doc = example();
  node_of(doc, 1).erase("expression");
  node_of(doc, 1)["duration_ms"] = 5;
  node_of(doc, 0)["trigger"] = json::parse(R"({"kind": "event", "cron": "* * * * *"})");
  auto r = run(doc);
  auto p = error_at(r, "/nodes/1");
  CHECK(p.message == "condition node 'big' needs \"expression\"");
  CHECK(p.fix == R"(add "expression": "input.seats > 5")");
  auto q = error_at(r, "/nodes/1/duration_ms");
  CHECK(q.message == "\"duration_ms\" is not a field of a condition node");
  CHECK(q.fix == "remove it");
  CHECK(error_at(r, "/nodes/0/trigger").message == "trigger node 'start' needs \"event_type\"");
  CHECK(error_at(r, "/nodes/0/trigger/cron").message == "\"cron\" is not a field of a event trigger");
}

TEST_CASE("each action kind needs its fields") {
  auto r = run(line(R"({"id": "mid", "type": "action", "action": {"kind": "email", "to": "input.plan", "url": "x"}})"));
  CHECK(error_at(r, "/nodes/1/action").message == "the email action of 'mid' needs \"subject\"");
  CHECK(error_at(r, "/nodes/1/action/url").message == "\"url\" is not a field of a email action");
}

TEST_CASE("a delay needs exactly one of duration_ms and until, and until is a number") {
  CHECK(error_at(run(line(R"({"id": "mid", "type": "delay"})")), "/nodes/1").message ==
        "delay node 'mid' needs \"duration_ms\" or \"until\"");
  CHECK(error_at(run(line(R"({"id": "mid", "type": "delay", "duration_ms": 5, "until": "1"})")), "/nodes/1/until")
            .message == "delay node 'mid' has both duration_ms and until");
  CHECK(error_at(run(line(R"({"id": "mid", "type": "delay", "until": "input.plan"})")), "/nodes/1/until").message ==
        "the until of delay 'mid' gives a string, not a number");
  check_valid(run(line(R"({"id": "mid", "type": "delay", "until": "input.seats * 1000"})")));
}

TEST_CASE("a wait's timeout edge needs a timeout_ms; wait outputs are typed") {
  auto doc = graph(R"([{"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
                       {"id": "paid", "type": "wait", "event_type": "invoice.paid", "correlation": "input.plan"},
                       {"id": "log", "type": "action", "action": {"kind": "set", "values": {"t": "steps.paid.event_type + '!'"}}},
                       {"id": "done", "type": "end"}])",
                   R"([{"from": "start", "to": "paid"}, {"from": "paid", "to": "log"},
                       {"from": "paid", "to": "done", "when": "timeout"}, {"from": "log", "to": "done"}])");
  auto p = error_at(run(doc), "/edges/2/when");
  CHECK(p.message == "edge 2 is taken on the timeout of wait 'paid', which has no timeout_ms");
  node_of(doc, 1)["timeout_ms"] = 60000;
  check_valid(run(doc));
  auto def = compile(doc, registry());
  REQUIRE(def.ok());
  CHECK((*def)->nodes[1].on_timeout == 3);
  CHECK((*def)->nodes[1].next == std::vector<int>{2});
}

TEST_CASE("names of input fields, variables and headers are checked") {
  auto doc = example();
  doc.at("input").as_object()["bad-name"] = "string";
  node_of(doc, 3)["action"].as_object()["values"] = json::parse(R"({"9lives": "1"})");
  node_of(doc, 2)["action"].as_object()["headers"] = json::parse(R"({"Bad Header": "x"})");
  auto r = run(doc);
  CHECK(error_at(r, "/input/bad-name").message == "'bad-name' is not a name an expression can read");
  CHECK(error_at(r, "/nodes/3/action/values/9lives").message == "'9lives' is not a name an expression can read");
  CHECK(error_at(r, "/nodes/2/action/headers/Bad Header").message == "'Bad Header' is not an HTTP header name");
}

TEST_CASE("every problem is reported at once") {
  auto doc = example();
  node_of(doc, 1)["expression"] = "input.plna == 'pro'";      // unknown variable
  doc.at("edges").as_array()[3].as_object()["to"] = "notfy";   // missing node (and 'note' unreachable)
  node_of(doc, 2)["colour"] = "red";                           // schema
  auto r = run(doc);
  CHECK(r.errors.size() >= 4);
  error_at(r, "/nodes/1/expression");
  error_at(r, "/edges/3/to");
  error_at(r, "/nodes/2/colour");
  error_at(r, "/nodes/3");
}

TEST_CASE("content hash is equal under key reordering and formatting, different under a change") {
  auto a = json::parse(R"({"b": 1, "a": [true, null, {"y": 2, "x": "s"}]})");
  auto b = json::parse(R"({ "a" : [ true , null , { "x" : "s" , "y" : 2 } ] , "b" : 1 })");
  CHECK(content_hash(a) == content_hash(b));
  CHECK(content_hash(a).size() == 64);
  auto c = json::parse(R"({"b": 2, "a": [true, null, {"y": 2, "x": "s"}]})");
  CHECK(content_hash(a) != content_hash(c));
  auto d = json::parse(R"({"b": 1, "a": [null, true, {"y": 2, "x": "s"}]})");  // array order matters
  CHECK(content_hash(a) != content_hash(d));
  // SHA-256 of the canonical text {"a":[true,null],"b":1}.
  CHECK(content_hash(json::parse(R"({"b": 1, "a": [true, null]})")) ==
        "51705a2c9eb3e7e410a58f696a770c3ac3885a0cf43eb7fc88f5e47c11d4d30d");
  CHECK(content_hash(example()) == content_hash(json::parse(json::serialize(example()))));
}

TEST_CASE("retry delays back off exponentially up to the maximum") {
  RetryPolicy p;  // 1000 ms, x2, at most 100000
  CHECK(p.delay_ms(1, 7) == 1000);
  CHECK(p.delay_ms(2, 7) == 2000);
  CHECK(p.delay_ms(3, 7) == 4000);
  CHECK(p.delay_ms(8, 7) == 100000);
  CHECK(p.delay_ms(5000, 7) == 100000);  // the power overflows: still the maximum
  p.maximum_interval_ms = 5000;
  CHECK(p.delay_ms(3, 0) == 4000);
  CHECK(p.delay_ms(4, 0) == 5000);
  p.backoff_coefficient = 1.5;
  p.initial_interval_ms = 100;
  CHECK(p.delay_ms(3, 0) == 225);
}

TEST_CASE("retry jitter stays within its bounds and is deterministic per seed") {
  RetryPolicy p;
  p.jitter = 0.2;
  std::set<std::int64_t> seen;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    auto d = p.delay_ms(2, seed);
    CHECK(d >= 1600);
    CHECK(d <= 2400);
    CHECK(d == p.delay_ms(2, seed));
    seen.insert(d);
  }
  CHECK(seen.size() > 50);  // the seeds spread the delays
}

TEST_CASE("retry maximum interval defaults to 100 times the initial interval") {
  auto doc = example();
  node_of(doc, 2)["retry"] = json::parse(R"({"initial_interval_ms": 500})");
  auto def = compile(doc, registry());
  REQUIRE(def.ok());
  const auto& retry = (*def)->nodes[2].retry;
  CHECK(retry.initial_interval_ms == 500);
  CHECK(retry.maximum_interval_ms == 50000);
  CHECK(retry.maximum_attempts == 3);
  CHECK(retry.backoff_coefficient == doctest::Approx(2.0));
}

TEST_CASE("every workflow template embedded with the schemas is a valid definition") {
  std::size_t checked = 0;
  for (const auto& e : embedded_schemas()) {
    if (!std::string_view(e.path).starts_with("workflows/templates/")) continue;
    INFO(e.path);
    check_valid(run(json::parse(e.text)));
    ++checked;
  }
  // Not vacuous: the filter found the templates (schemas/workflows/templates/ holds several).
  REQUIRE_MESSAGE(checked > 0, "no embedded schema path starts with workflows/templates/");
}
