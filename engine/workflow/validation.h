// Internal to engine/workflow, not a public interface: the passes behind
// validate() and compile() (definition.h), which share one Draft.
//
//   definition.cpp      orchestration, the schema pass, compile, hash, retry
//   validate_nodes.cpp  top-level fields and nodes: ids, types, the fields each
//                       node type and action kind takes, names, expressions,
//                       templates, cron
//   validate_graph.cpp  edges, the outgoing edges each node type needs,
//                       reachability, cycles, joins
//   validate_types.cpp  variables and types of every expression and template
//
// Every pass tolerates a document that broke the schema (it skips what it
// cannot read), so that one validation reports every problem.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "engine/nearest.h"
#include "engine/schema_registry.h"
#include "engine/workflow/definition.h"

namespace causeway::workflow::detail {

// A parsed expression or template, for the type pass.
struct Site {
  std::string pointer;
  ExprPtr expr;                  // set, or else tmpl
  std::optional<Template> tmpl;
  std::optional<Type> want;      // the type the field needs (conditions: boolean)
  std::string what;              // "condition 'big'", for messages
};

// A `set` action writing a variable.
struct Write {
  std::string var;
  int node = -1;
  std::string pointer;  // "/nodes/3/action/values/count"
  ExprPtr expr;
};

struct EdgeInfo {
  int from = -1, to = -1;  // node indexes, -1 when not an existing node
  std::string when;        // "" when unlabelled
  bool label_ok = false;   // unlabelled, or a label the source type takes
};

// What validation learns from a document: the Definition as far as it could
// be built, and what the later passes need. Node i always is /nodes/i; a
// node without a unique id or a known type is not `usable` and the graph
// passes skip it (its problems are reported already).
struct Draft {
  Definition def;
  std::vector<bool> usable;
  int triggers = 0;  // how many trigger nodes
  std::vector<EdgeInfo> edges;  // edge k is /edges/k
  std::vector<Site> sites;
  std::vector<Write> writes;
  Report report;

  void error(std::string pointer, std::string message, std::string fix);
  void warning(std::string pointer, std::string message, std::string fix);
};

void read_document(const boost::json::object& doc, Draft& d);  // validate_nodes.cpp
void read_edges(const boost::json::object& doc, Draft& d);     // validate_graph.cpp
void check_graph(Draft& d);                                    // validate_graph.cpp
void check_types(Draft& d);                                    // validate_types.cpp
// The email action's `to` and the notify action's `user` read from an input
// the trigger can never give (validate_types.cpp): warnings.
void check_required_inputs(Draft& d, const SchemaRegistry& schemas);

// RFC 6901 escaping of one reference token.
std::string escape_token(std::string_view s);
// "Did you mean": engine/nearest.h.
using causeway::edit_distance;
using causeway::nearest;
// The id of node i, quoted for messages ("'big'").
std::string quoted_id(const Draft& d, int i);

}  // namespace causeway::workflow::detail
