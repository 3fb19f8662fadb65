#include "engine/workflow/catalog.h"

#include <boost/json/parse.hpp>

#include "engine/commands/traits.h"
#include "engine/pipeline.h"

namespace causeway::workflow {
namespace json = boost::json;

Result<std::shared_ptr<const Definition>> Catalog::compile_cached(const json::value& doc, const std::string& hash) {
  {
    std::lock_guard lock(mu_);
    if (auto it = definitions_.find(hash); it != definitions_.end()) return it->second;
  }
  auto compiled = compile(doc, pipe_.schemas());
  if (!compiled) return std::move(compiled).error();
  std::lock_guard lock(mu_);
  definitions_.emplace(hash, *compiled);
  return *compiled;
}

Result<std::shared_ptr<const Definition>> Catalog::definition(const std::string& workflow_id,
                                                               const std::string& hash) {
  {
    std::lock_guard lock(mu_);
    if (auto it = definitions_.find(hash); it != definitions_.end()) return it->second;
  }
  auto wf = pipe_.aggregates().load<WorkflowAggregate>(workflow_agg::stream_of(workflow_id));
  if (!wf) return std::move(wf).error();
  const workflow_agg::Version* v = wf->state.by_hash(hash);
  if (!v) return Error::not_found("the run's workflow version is missing");
  boost::system::error_code ec;
  auto doc = json::parse(v->definition, ec);
  if (ec) return Error::corruption("a stored workflow definition is not JSON");
  return compile_cached(doc, hash);
}

void Catalog::remember(const std::string& run_id, std::uint64_t version, run::Context context) {
  std::lock_guard lock(mu_);
  auto it = contexts_.find(run_id);
  if (it != contexts_.end() && it->second.version >= version) return;
  if (it == contexts_.end() && contexts_.size() >= capacity_) contexts_.erase(contexts_.begin());
  contexts_[run_id] = Folded{version, std::move(context)};
}

Result<run::Context> Catalog::context(const std::string& run_id, std::uint64_t version, const Definition& def) {
  Folded folded;
  {
    std::lock_guard lock(mu_);
    if (auto it = contexts_.find(run_id); it != contexts_.end() && it->second.version <= version)
      folded = it->second;
  }
  if (folded.version < version) {
    auto events = pipe_.log().read_stream(run::stream_of(run_id), folded.version + 1,
                                          static_cast<std::size_t>(version - folded.version));
    if (!events) return std::move(events).error();
    for (const auto& e : *events) {
      if (e.stream_version > version) break;
      boost::system::error_code ec;
      auto data = json::parse(e.data, ec);
      if (ec || !data.is_object()) return Error::corruption("a run event is not a JSON object");
      if (auto st = pipe_.vault().open_all(data); !st) return std::move(st).error();
      const auto& o = data.as_object();
      bool is_set = false;
      if (auto* n = o.if_contains("node"); n && n->is_string())
        if (auto it = def.index.find(std::string(n->as_string())); it != def.index.end()) {
          const Node& node = def.nodes[static_cast<std::size_t>(it->second)];
          is_set = node.type == NodeType::action && node.action.kind == ActionKind::set;
        }
      run::fold_context(folded.context, e.type, o, is_set);
      folded.version = e.stream_version;
    }
    if (folded.version != version) return Error::corruption("a run's stream is shorter than its state");
  }
  std::lock_guard lock(mu_);
  if (contexts_.size() >= capacity_) contexts_.erase(contexts_.begin());
  contexts_[run_id] = folded;
  return std::move(folded.context);
}

}  // namespace causeway::workflow
