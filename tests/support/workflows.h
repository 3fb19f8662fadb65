// Workflow definitions and reads shared by the workflow tests and the bench.
#pragma once

#include <boost/json/parse.hpp>
#include <map>
#include <string>
#include <vector>

#include "support/http_client.h"

namespace causeway::testing {

// A five-node workflow: trigger, condition (input.seats > 5), two HTTP POSTs
// to `url` (the first retried: 3 attempts from `initial_retry_ms`), a set of
// vars.crm_status, an end. Input: {plan: string, seats: number}.
inline std::string five_node_workflow(const std::string& url, int initial_retry_ms = 5) {
  return R"({"format": 1, "name": "five", "input": {"plan": "string", "seats": "number"},
    "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "big", "type": "condition", "expression": "input.seats > 5"},
      {"id": "crm", "type": "action", "action": {"kind": "http", "method": "POST", "url": ")" +
         url + R"(", "body": "{\"plan\": \"{{ input.plan }}\"}"},
       "retry": {"initial_interval_ms": )" + std::to_string(initial_retry_ms) + R"(, "maximum_attempts": 3}},
      {"id": "billing", "type": "action", "action": {"kind": "http", "method": "POST", "url": ")" + url +
         R"(", "body": "{\"seats\": {{ input.seats }}}"}},
      {"id": "note", "type": "action", "action": {"kind": "set", "values": {"crm_status": "steps.crm.status"}}},
      {"id": "done", "type": "end"}],
    "edges": [
      {"from": "start", "to": "big"}, {"from": "big", "to": "crm", "when": "true"},
      {"from": "big", "to": "done", "when": "false"}, {"from": "crm", "to": "billing"},
      {"from": "billing", "to": "note"}, {"from": "note", "to": "done"}]})";
}

// The smallest workflow: a manual trigger and an end.
inline std::string manual_workflow() {
  return R"({"format": 1, "name": "m", "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
      {"id": "done", "type": "end"}],
    "edges": [{"from": "start", "to": "done"}]})";
}

// The types of a run's events, in order (GET /v1/runs/{id}/events with `token`);
// an empty list when the read fails.
inline std::vector<std::string> run_event_types(HttpClient& http, const std::string& token,
                                                const std::string& run_id) {
  auto r = http.get("/v1/runs/" + run_id + "/events", {{"Authorization", "Bearer " + token}});
  std::vector<std::string> out;
  if (r.status != 200) return out;
  const auto body = r.json();
  for (const auto& e : body.at("events").as_array()) out.emplace_back(e.at("type").as_string());
  return out;
}

}  // namespace causeway::testing
