// Workflow definitions (docs/workflows.md, "The definition format"): the
// validator that reports every problem at once, the compiled graph the
// interpreter walks, the content hash that pins a run to a version, and the
// retry policy arithmetic. All pure; a compiled Definition is immutable and
// shared between threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "engine/schema_registry.h"
#include "engine/workflow/expression.h"
#include "events/result.h"

namespace causeway::workflow {

struct RetryPolicy {
  std::int64_t initial_interval_ms = 1000;
  double backoff_coefficient = 2.0;
  std::int64_t maximum_interval_ms = 100000;  // compile(): 100 x initial unless given
  int maximum_attempts = 3;                   // 1: no retry
  double jitter = 0;                          // 0..1
  std::set<std::string> non_retryable;        // error classes (http_4xx, timeout, ...)

  // The wait before the attempt after failed attempt `failed_attempt` (1 for
  // the first attempt): min(initial x coefficient^(k-1), maximum), times a
  // factor in [1 - jitter, 1 + jitter] drawn from `seed` (splitmix64 of the
  // seed mapped to [0, 1)), rounded to a millisecond. The same seed gives the
  // same delay; callers derive it from run id, node and attempt.
  std::int64_t delay_ms(int failed_attempt, std::uint64_t seed) const;
};

enum class NodeType { trigger, condition, action, delay, wait, parallel, join, end };
enum class ActionKind { http, set, emit, notify, email, start_workflow };
const char* node_type_name(NodeType t);
const char* action_kind_name(ActionKind k);

struct Trigger {
  std::string kind;        // manual | event | schedule
  std::string event_type;  // event
  ExprPtr filter;          // event; null: every event of the type
  std::string cron;        // schedule (parse_cron accepts it)
};

struct Action {
  ActionKind kind = ActionKind::http;
  std::string method;  // http
  Template url;
  std::vector<std::pair<std::string, Template>> headers;
  Template body;
  // set: variable -> expression; emit: payload field -> expression;
  // start_workflow: input field -> expression. In document order.
  std::vector<std::pair<std::string, ExprPtr>> values;
  std::string event_type;  // emit
  ExprPtr user;            // notify
  Template message;
  ExprPtr to;              // email
  Template subject, text;
  std::string workflow_id;  // start_workflow
};

struct Node {
  std::string id;
  NodeType type = NodeType::end;
  std::optional<int> max_visits;
  Trigger trigger;                        // trigger
  ExprPtr expression;                     // condition
  Action action;                          // action
  RetryPolicy retry;                      // action
  std::optional<std::int64_t> timeout_ms; // action, wait
  std::optional<std::int64_t> duration_ms;  // delay (else `until`)
  ExprPtr until;                          // delay: ms since the epoch
  std::string event_type;                 // wait
  ExprPtr correlation;                    // wait; null: any event of the type
  std::vector<int> next;                  // unlabelled targets (node indexes), in edge order
  int on_true = -1, on_false = -1, on_error = -1, on_timeout = -1;
  std::vector<int> incoming;  // the source node of each incoming edge, in edge order (every node type)
};

struct Definition {
  int format = 1;
  std::string name;
  std::vector<std::pair<std::string, Type>> input;  // in document order
  std::vector<Node> nodes;                          // in document order: node i is /nodes/i
  std::map<std::string, int> index;                 // node id -> index
  int trigger = -1;
  std::optional<std::int64_t> timeout_ms;
  std::int64_t stuck_after_ms = 3'600'000;
};

// One validation finding. `pointer` is RFC 6901 into the definition
// document ("/nodes/2/expression"); `fix` says what to change.
struct Problem {
  std::string pointer, message, fix;
};

struct Report {
  std::vector<Problem> errors, warnings;
  bool ok() const { return errors.empty(); }
  // {"valid": bool, "errors": [{pointer, message, fix}], "warnings": [...]}
  boost::json::object to_json() const;
  // The same report with `prefix` before every pointer (e.g. "/definition"
  // when the definition sits in a request body).
  Report prefixed(const std::string& prefix) const;
};

// Every problem of a definition document at once (docs/workflows.md,
// "Validation"): the JSON Schema (schemas/workflows/definition.json), node
// fields, names, expressions and templates, variables and types, cron
// schedules, edges and the graph rules. Never throws.
Report validate(const boost::json::value& definition, const SchemaRegistry& schemas);

// validate(), then the compiled graph. Error::invalid carries the first
// error's message and pointer when the definition is not valid. With
// `report`, the whole validation report is also kept there (one analysis for
// a caller that needs both, e.g. the dry-run's warnings).
Result<std::shared_ptr<const Definition>> compile(const boost::json::value& definition, const SchemaRegistry& schemas,
                                                  Report* report = nullptr);

// Lower-case hex SHA-256 of the canonical JSON of the document: object keys
// sorted (bytewise) at every level, no blanks, each scalar as
// boost::json::serialize prints it. Equal for documents that differ only in
// key order or formatting.
std::string content_hash(const boost::json::value& definition);

}  // namespace causeway::workflow
