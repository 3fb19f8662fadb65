// Edges and the rules of the graph (docs/workflows.md, "Nodes", "Edges",
// "Validation"): endpoints, labels, the outgoing edges each node type needs,
// reachability from the trigger, cycles without max_visits, and joins.
#include <algorithm>
#include <deque>
#include <fmt/format.h>
#include <map>
#include <tuple>

#include "engine/workflow/validation.h"

namespace causeway::workflow::detail {
namespace json = boost::json;

namespace {

using Adjacency = std::vector<std::vector<int>>;  // node -> edge indexes, in edge order

const Node& node(const Draft& d, int i) { return d.def.nodes[static_cast<std::size_t>(i)]; }
const EdgeInfo& edge(const Draft& d, int k) { return d.edges[static_cast<std::size_t>(k)]; }
std::string node_ptr(int i) { return fmt::format("/nodes/{}", i); }
std::string edge_ptr(int k) { return fmt::format("/edges/{}", k); }

// The labels a node type's outgoing edges may carry (besides none).
std::vector<std::string_view> labels_of(NodeType t) {
  switch (t) {
    case NodeType::condition: return {"true", "false"};
    case NodeType::action: return {"error"};
    case NodeType::wait: return {"timeout"};
    default: return {};
  }
}

const char* label_owner(std::string_view label) {
  if (label == "error") return "action";
  if (label == "timeout") return "wait";
  return "condition";
}

std::string label_fix(NodeType t) {
  switch (t) {
    case NodeType::condition: return R"(use "when": "true" or "when": "false")";
    case NodeType::action: return R"(remove "when", or use "error" for the path taken when the action fails)";
    case NodeType::wait: return R"(remove "when", or use "timeout" for the path taken when no event comes)";
    default: return R"(remove "when")";
  }
}

std::string text(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

void outgoing_rules(Draft& d, const Adjacency& out) {
  for (int i = 0; i < static_cast<int>(out.size()); ++i) {
    if (!d.usable[static_cast<std::size_t>(i)]) continue;
    const auto& n = node(d, i);
    const auto type = node_type_name(n.type);
    std::vector<int> plain;
    std::map<std::string, int> first_label;  // label -> first edge
    for (int k : out[static_cast<std::size_t>(i)]) {
      const auto& e = edge(d, k);
      if (n.type == NodeType::end) {
        d.error(edge_ptr(k), fmt::format("edge {} leaves end node '{}'", k, n.id),
                fmt::format("remove the edge, or give '{}' another type", n.id));
        continue;
      }
      if (!e.label_ok) continue;
      if (e.when.empty()) {
        plain.push_back(k);
        continue;
      }
      auto [it, fresh] = first_label.emplace(e.when, k);
      if (!fresh)
        d.error(edge_ptr(k) + "/when",
                fmt::format("'{}' has two \"{}\" edges (edges {} and {})", n.id, e.when, it->second, k),
                "keep one of them");
      if (n.type == NodeType::wait && e.when == "timeout" && !n.timeout_ms)
        d.error(edge_ptr(k) + "/when",
                fmt::format("edge {} is taken on the timeout of wait '{}', which has no timeout_ms", k, n.id),
                fmt::format("add \"timeout_ms\" to '{}', or remove the edge", n.id));
    }
    switch (n.type) {
      case NodeType::end: break;
      case NodeType::condition:
        for (int k : plain)
          d.error(edge_ptr(k), fmt::format("edge {} leaves condition '{}' without \"when\"", k, n.id),
                  R"(add "when": "true" or "when": "false")");
        for (const char* label : {"true", "false"})
          if (!first_label.contains(label))
            d.error(node_ptr(i), fmt::format("condition '{}' has no \"when\": \"{}\" edge", n.id, label),
                    fmt::format(R"(add an edge {{"from": "{}", "to": "<node>", "when": "{}"}})", n.id, label));
        break;
      case NodeType::parallel:
        if (plain.size() < 2)
          d.error(node_ptr(i),
                  fmt::format("parallel node '{}' has {} branch{}; it needs two or more", n.id, plain.size(),
                              plain.size() == 1 ? "" : "es"),
                  fmt::format("add another edge from '{}', or remove the parallel node", n.id));
        break;
      default:
        if (plain.empty())
          d.error(node_ptr(i), fmt::format("{} node '{}' has no outgoing edge", type, n.id),
                  fmt::format("add an edge from '{}' to the next node (an end node to finish)", n.id));
        for (std::size_t j = 1; j < plain.size(); ++j)
          d.error(edge_ptr(plain[j]),
                  fmt::format("{} node '{}' has a second outgoing edge (the first is edge {})", type, n.id, plain[0]),
                  "keep one; to run branches at the same time, go to a parallel node");
    }
  }
}

void wire(Draft& d, const Adjacency& out, const Adjacency& in) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto& n = d.def.nodes[i];
    for (int k : out[i]) {
      const auto& e = edge(d, k);
      if (!e.label_ok) continue;
      int* slot = e.when == "true"    ? &n.on_true
                  : e.when == "false" ? &n.on_false
                  : e.when == "error" ? &n.on_error
                  : e.when == "timeout" ? &n.on_timeout
                                        : nullptr;
      if (!slot) n.next.push_back(e.to);
      else if (*slot < 0) *slot = e.to;
    }
    for (int k : in[i])
      if (edge(d, k).label_ok) n.incoming.push_back(edge(d, k).from);
  }
}

std::vector<bool> reachable_from(const Draft& d, const Adjacency& out, int start) {
  std::vector<bool> seen(out.size(), false);
  std::deque<int> queue{start};
  seen[static_cast<std::size_t>(start)] = true;
  while (!queue.empty()) {
    int v = queue.front();
    queue.pop_front();
    for (int k : out[static_cast<std::size_t>(v)]) {
      int to = edge(d, k).to;
      if (seen[static_cast<std::size_t>(to)]) continue;
      seen[static_cast<std::size_t>(to)] = true;
      queue.push_back(to);
    }
  }
  return seen;
}

// Where one branch's token can go from `start` (not entering `avoid_a` or
// `avoid_b`, not taking `skip_edge`). A join passes the token on only when
// every incoming edge comes from a node the branch reaches (a fork and join
// inside the branch); else it merges this branch with others and the walk
// stops there: `held` marks those joins.
struct Flow {
  std::vector<bool> reached, held;
};
Flow flow_from(const Draft& d, const Adjacency& out, const Adjacency& in, int start, int avoid_a, int avoid_b = -1,
               int skip_edge = -1) {
  Flow f{std::vector<bool>(out.size(), false), std::vector<bool>(out.size(), false)};
  std::deque<int> queue{start};
  f.reached[static_cast<std::size_t>(start)] = true;
  while (!queue.empty()) {
    while (!queue.empty()) {
      int v = queue.front();
      queue.pop_front();
      for (int k : out[static_cast<std::size_t>(v)]) {
        const auto to = static_cast<std::size_t>(edge(d, k).to);
        if (k == skip_edge || edge(d, k).to == avoid_a || edge(d, k).to == avoid_b || f.reached[to] || f.held[to])
          continue;
        if (d.def.nodes[to].type == NodeType::join) {
          f.held[to] = true;
          continue;
        }
        f.reached[to] = true;
        queue.push_back(static_cast<int>(to));
      }
    }
    for (std::size_t j = 0; j < out.size(); ++j) {
      if (!f.held[j]) continue;
      bool inside = true;
      for (int k : in[j]) inside = inside && f.reached[static_cast<std::size_t>(edge(d, k).from)];
      if (!inside) continue;
      f.held[j] = false;
      f.reached[j] = true;
      queue.push_back(static_cast<int>(j));
    }
  }
  return f;
}

void reachability(Draft& d, const Adjacency& out) {
  if (d.triggers != 1 || !d.usable[static_cast<std::size_t>(d.def.trigger)]) return;
  auto seen = reachable_from(d, out, d.def.trigger);
  for (std::size_t i = 0; i < out.size(); ++i)
    if (d.usable[i] && !seen[i])
      d.error(node_ptr(static_cast<int>(i)), fmt::format("node '{}' cannot be reached from the trigger", d.def.nodes[i].id),
              fmt::format("add an edge to '{}', or remove it", d.def.nodes[i].id));
}

// Tarjan's strongly connected components.
class Components {
 public:
  Components(const Draft& d, const Adjacency& out)
      : d_(d), out_(out), index_(out.size(), -1), low_(out.size()), on_(out.size()) {
    for (int v = 0; v < static_cast<int>(out.size()); ++v)
      if (index_[static_cast<std::size_t>(v)] < 0) visit(v);
  }
  std::vector<std::vector<int>> all;

 private:
  const Draft& d_;
  const Adjacency& out_;
  std::vector<int> index_, low_, stack_;
  std::vector<bool> on_;
  int counter_ = 0;

  void visit(int v) {
    auto uv = static_cast<std::size_t>(v);
    index_[uv] = low_[uv] = counter_++;
    stack_.push_back(v);
    on_[uv] = true;
    for (int k : out_[uv]) {
      auto w = static_cast<std::size_t>(edge(d_, k).to);
      if (index_[w] < 0) {
        visit(static_cast<int>(w));
        low_[uv] = std::min(low_[uv], low_[w]);
      } else if (on_[w]) {
        low_[uv] = std::min(low_[uv], index_[w]);
      }
    }
    if (low_[uv] != index_[uv]) return;
    std::vector<int> component;
    int w = -1;
    do {
      w = stack_.back();
      stack_.pop_back();
      on_[static_cast<std::size_t>(w)] = false;
      component.push_back(w);
    } while (w != v);
    std::sort(component.begin(), component.end());
    all.push_back(std::move(component));
  }
};

void cycles(Draft& d, const Adjacency& out) {
  for (const auto& c : Components(d, out).all) {
    bool cycle = c.size() > 1;
    for (int k : out[static_cast<std::size_t>(c[0])]) cycle = cycle || edge(d, k).to == c[0];
    if (!cycle) continue;
    bool bounded = false;
    for (int v : c) bounded = bounded || node(d, v).max_visits.has_value();
    if (bounded) continue;
    std::string names;
    for (std::size_t j = 0; j < c.size() && j < 10; ++j) names += (j ? ", " : "") + quoted_id(d, c[j]);
    if (c.size() > 10) names += ", ...";
    d.error(node_ptr(c[0]),
            fmt::format("{} {} {} a cycle and no node of it has max_visits", c.size() == 1 ? "node" : "nodes", names,
                        c.size() == 1 ? "forms" : "form") +
                (c.size() == 1 ? " (it loops to itself)" : ""),
            fmt::format("add \"max_visits\" (e.g. 10) to one of them, e.g. {}", quoted_id(d, c[0])));
  }
}

// Kuhn's augmenting paths: can every incoming edge have a branch of its own?
bool match(int left, const std::vector<std::vector<int>>& reaches, std::vector<int>& owner, std::vector<bool>& tried) {
  for (int b : reaches[static_cast<std::size_t>(left)]) {
    if (tried[static_cast<std::size_t>(b)]) continue;
    tried[static_cast<std::size_t>(b)] = true;
    int& o = owner[static_cast<std::size_t>(b)];
    if (o < 0 || match(o, reaches, owner, tried)) {
      o = left;
      return true;
    }
  }
  return false;
}

// A parallel node: its branches and where each branch's token goes
// (flow_from()) without passing the parallel node again.
struct Fork {
  int node = -1;
  std::vector<int> branches;                // edge indexes
  std::vector<std::vector<bool>> reach;     // per branch
  std::vector<bool> any;                    // the nodes (joins included) some branch arrives at
};

std::vector<Fork> forks_of(const Draft& d, const Adjacency& out, const Adjacency& in) {
  std::vector<Fork> forks;
  for (int p = 0; p < static_cast<int>(out.size()); ++p) {
    if (!d.usable[static_cast<std::size_t>(p)] || node(d, p).type != NodeType::parallel) continue;
    Fork f;
    f.node = p;
    f.any.assign(out.size(), false);
    for (int k : out[static_cast<std::size_t>(p)]) {
      if (!edge(d, k).label_ok || !edge(d, k).when.empty()) continue;
      f.branches.push_back(k);
      auto flow = flow_from(d, out, in, edge(d, k).to, p);
      for (std::size_t v = 0; v < out.size(); ++v)
        if (flow.reached[v] || flow.held[v]) f.any[v] = true;
      f.any[static_cast<std::size_t>(edge(d, k).to)] = true;
      f.reach.push_back(std::move(flow.reached));
    }
    forks.push_back(std::move(f));
  }
  return forks;
}

struct JoinVerdict {
  bool fires = false;
  std::string unsure;  // empty when every branch always arrives; else why not
};

// Whether join `j` (incoming edges `in`) fires after fork `f`: when each
// incoming edge lies on a branch of its own (a matching).
JoinVerdict join_verdict(const Draft& d, const Adjacency& out, const Adjacency& into, const Fork& f, int j,
                         const std::vector<int>& in) {
  const auto& branches = f.branches;
  std::vector<std::vector<int>> reaches(in.size());  // incoming edge -> branches it lies on
  for (std::size_t b = 0; b < branches.size(); ++b)
    for (std::size_t x = 0; x < in.size(); ++x) {
      const bool direct = edge(d, branches[b]).to == j;
      if (direct ? in[x] == branches[b] : f.reach[b][static_cast<std::size_t>(edge(d, in[x]).from)])
        reaches[x].push_back(static_cast<int>(b));
    }
  std::vector<int> owner(branches.size(), -1);
  for (std::size_t x = 0; x < in.size(); ++x) {
    std::vector<bool> tried(branches.size(), false);
    if (!match(static_cast<int>(x), reaches, owner, tried)) return {};
  }
  // Each matched branch must arrive on its own edge on every path: without
  // that edge it must reach neither an end node nor another edge into j.
  const auto& fork_id = node(d, f.node).id;
  for (std::size_t b = 0; b < branches.size(); ++b) {
    if (owner[b] < 0 || edge(d, branches[b]).to == j) continue;
    const int mine = in[static_cast<std::size_t>(owner[b])];
    auto without = flow_from(d, out, into, edge(d, branches[b]).to, f.node, j, mine).reached;
    const auto& first = node(d, edge(d, branches[b]).to).id;
    for (std::size_t v = 0; v < without.size(); ++v) {
      if (!without[v]) continue;
      if (d.def.nodes[v].type == NodeType::end)
        return {true, fmt::format("the branch of parallel '{}' to '{}' can reach end node '{}' instead", fork_id,
                                  first, d.def.nodes[v].id)};
      for (int k : out[v])
        if (edge(d, k).to == j && k != mine)
          return {true, fmt::format("the branch of parallel '{}' to '{}' can arrive on another edge (edge {})",
                                    fork_id, first, k)};
    }
  }
  return {true, ""};
}

// A join fires when a branch arrived on every incoming edge, so its
// incoming edges must lie on distinct branches of one parallel node.
void check_joins(Draft& d, const Adjacency& out, const Adjacency& in) {
  std::optional<std::vector<Fork>> forks;  // computed when there is a join
  for (int j = 0; j < static_cast<int>(out.size()); ++j) {
    if (!d.usable[static_cast<std::size_t>(j)] || node(d, j).type != NodeType::join) continue;
    const auto& incoming = in[static_cast<std::size_t>(j)];
    const auto& id = node(d, j).id;
    if (incoming.size() < 2) {
      d.error(node_ptr(j), fmt::format("join '{}' has {} incoming edge{}; it needs two or more", id, incoming.size(),
                                       incoming.size() == 1 ? "" : "s"),
              fmt::format("connect each branch of a parallel node to '{}', or give it another type", id));
      continue;
    }
    if (!forks) forks = forks_of(d, out, in);
    std::optional<JoinVerdict> partly;
    bool always = false;
    for (const auto& f : *forks) {
      if (!f.any[static_cast<std::size_t>(j)]) continue;
      auto v = join_verdict(d, out, in, f, j, incoming);
      if (v.fires && v.unsure.empty()) {
        always = true;
        break;
      }
      if (v.fires && !partly) partly = v;
    }
    if (always) continue;
    if (partly) {
      d.warning(node_ptr(j), fmt::format("join '{}' fires only on some paths: {}", id, partly->unsure),
                fmt::format("make every path of each branch end on its own edge into '{}'", id));
      continue;
    }
    std::string sources;
    for (std::size_t x = 0; x < incoming.size() && x < 10; ++x)
      sources += (x ? ", " : "") + quoted_id(d, edge(d, incoming[x]).from);
    d.error(node_ptr(j),
            fmt::format("join '{}' can never fire: its incoming edges (from {}) are not on distinct branches of one "
                        "parallel node",
                        id, sources),
            fmt::format("start the branches at a parallel node, each reaching '{}' on its own edge (the two outcomes "
                        "of one condition never both arrive)",
                        id));
  }
}

}  // namespace

void read_edges(const json::object& doc, Draft& d) {
  auto* edges = doc.if_contains("edges");
  if (!edges || !edges->is_array()) return;  // the schema reported it
  const auto& list = edges->get_array();
  d.edges.resize(list.size());
  std::vector<std::string> ids;
  for (const auto& [id, i] : d.def.index) ids.push_back(id);
  std::map<std::tuple<int, int, std::string>, int> seen;
  for (std::size_t uk = 0; uk < list.size(); ++uk) {
    auto* o = list[uk].if_object();
    if (!o) continue;
    const int k = static_cast<int>(uk);
    auto& e = d.edges[uk];
    auto endpoint = [&](std::string_view field, std::string_view verb) {
      auto name = text(*o, field);
      if (name.empty()) return -1;  // the schema reported it
      auto it = d.def.index.find(name);
      if (it != d.def.index.end()) return it->second;
      auto near = nearest(name, ids);
      d.error(edge_ptr(k) + "/" + std::string(field), fmt::format("edge {} {} '{}', which is not a node", k, verb, name),
              near ? fmt::format("did you mean '{}'?", *near) : std::string("use the id of an existing node"));
      return -1;
    };
    e.from = endpoint("from", "comes from");
    e.to = endpoint("to", "goes to");
    e.when = text(*o, "when");
    const bool known_label = e.when.empty() || e.when == "true" || e.when == "false" || e.when == "error" ||
                             e.when == "timeout";
    if (e.from >= 0 && d.usable[static_cast<std::size_t>(e.from)] && known_label) {
      const auto& src = node(d, e.from);
      auto labels = labels_of(src.type);
      e.label_ok = e.when.empty() || std::find(labels.begin(), labels.end(), e.when) != labels.end();
      if (!e.label_ok)
        d.error(edge_ptr(k) + "/when",
                fmt::format("edge {} from {} '{}' is labelled \"{}\", which only {} nodes take", k,
                            node_type_name(src.type), src.id, e.when, label_owner(e.when)),
                label_fix(src.type));
    }
    if (e.to >= 0 && d.usable[static_cast<std::size_t>(e.to)] && node(d, e.to).type == NodeType::trigger)
      d.error(edge_ptr(k) + "/to", fmt::format("edge {} goes into the trigger '{}'", k, node(d, e.to).id),
              "a run starts at the trigger; point the edge at another node");
    if (e.from >= 0 && e.to >= 0) {
      auto [it, fresh] = seen.emplace(std::make_tuple(e.from, e.to, e.when), k);
      if (!fresh) {
        d.error(edge_ptr(k), fmt::format("edge {} repeats edge {}", k, it->second), "remove it");
        e.from = e.to = -1;  // counted once
      }
    }
  }
}

void check_graph(Draft& d) {
  const auto n = d.def.nodes.size();
  Adjacency out(n), in(n);
  for (std::size_t k = 0; k < d.edges.size(); ++k) {
    const auto& e = d.edges[k];
    if (e.from < 0 || e.to < 0) continue;
    if (!d.usable[static_cast<std::size_t>(e.from)] || !d.usable[static_cast<std::size_t>(e.to)]) continue;
    out[static_cast<std::size_t>(e.from)].push_back(static_cast<int>(k));
    in[static_cast<std::size_t>(e.to)].push_back(static_cast<int>(k));
  }
  outgoing_rules(d, out);
  wire(d, out, in);
  reachability(d, out);
  cycles(d, out);
  check_joins(d, out, in);
}

}  // namespace causeway::workflow::detail
