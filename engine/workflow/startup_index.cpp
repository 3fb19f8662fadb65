#include "engine/workflow/startup_index.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <algorithm>

namespace causeway::workflow {
namespace json = boost::json;

namespace {

bool begins(std::string_view t) { return t == "run.started" || t == "run.restarted"; }
bool ends(std::string_view t) { return t == "run.completed" || t == "run.failed" || t == "run.cancelled"; }

// The strings of `v` (an array of strings) into `out`; false when it is not one.
bool strings_of(const json::value* v, std::set<std::string>& out) {
  if (!v || !v->is_array()) return false;
  for (const auto& s : v->as_array()) {
    if (!s.is_string()) return false;
    out.emplace(s.as_string());
  }
  return true;
}

// A whole number >= `least` (as parsed, or as built: int64 or uint64).
std::optional<std::uint64_t> whole(const json::value* v, std::uint64_t least) {
  if (!v) return std::nullopt;
  if (v->is_uint64() && v->as_uint64() >= least) return v->as_uint64();
  if (v->is_int64() && v->as_int64() >= 0 && static_cast<std::uint64_t>(v->as_int64()) >= least)
    return static_cast<std::uint64_t>(v->as_int64());
  return std::nullopt;
}

}  // namespace

bool StartupIndex::wants(std::string_view t) {
  return begins(t) || ends(t) || t == "workflow.published" || t == "workflow.archived" ||
         t.starts_with("subscription.");
}

void StartupIndex::observe(std::string_view type, const std::string& stream, const std::string& tenant,
                           LogAddress at) {
  if (at.partition >= next.size() || at.position < next[at.partition]) return;  // observed already
  next[at.partition] = at.position + 1;
  if (begins(type)) live_runs.insert(stream);
  else if (ends(type)) live_runs.erase(stream);
  else if (type == "workflow.published") published[stream] = at;  // a workflow's stream is its id
  else if (type == "workflow.archived") published.erase(stream);
  else if (type.starts_with("subscription.") && !tenant.empty()) subscribed.insert(tenant);
}

void StartupIndex::advance(std::uint32_t partition, std::uint64_t next_position) {
  if (partition < next.size()) next[partition] = std::max(next[partition], next_position);
}

json::value StartupIndex::to_json() const {
  json::array covered, runs, pubs, subs;
  for (auto n : next) covered.emplace_back(n);
  for (const auto& r : live_runs) runs.emplace_back(r);
  for (const auto& [id, at] : published)
    pubs.push_back(json::object{{"workflow_id", id}, {"partition", at.partition}, {"position", at.position}});
  for (const auto& s : subscribed) subs.emplace_back(s);
  return json::object{{"next", std::move(covered)}, {"live_runs", std::move(runs)}, {"published", std::move(pubs)}, {"subscribed", std::move(subs)}};
}

std::optional<StartupIndex> StartupIndex::from_json(const json::value& v, std::uint32_t partitions) {
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  StartupIndex out;
  const auto* covered = o.if_contains("next");
  if (!covered || !covered->is_array() || covered->as_array().size() != partitions) return std::nullopt;
  for (const auto& n : covered->as_array()) {
    auto at = whole(&n, 1);
    if (!at) return std::nullopt;
    out.next.push_back(*at);
  }
  if (!strings_of(o.if_contains("live_runs"), out.live_runs) || !strings_of(o.if_contains("subscribed"), out.subscribed))
    return std::nullopt;
  const auto* pubs = o.if_contains("published");
  if (!pubs || !pubs->is_array()) return std::nullopt;
  for (const auto& p : pubs->as_array()) {
    const auto* po = p.if_object();
    if (!po) return std::nullopt;
    const auto* id = po->if_contains("workflow_id");
    const auto part = whole(po->if_contains("partition"), 0), pos = whole(po->if_contains("position"), 1);
    if (!id || !id->is_string() || !part || *part >= partitions || !pos) return std::nullopt;
    out.published[std::string(id->as_string())] = LogAddress{static_cast<std::uint32_t>(*part), *pos};
  }
  return out;
}

}  // namespace causeway::workflow
