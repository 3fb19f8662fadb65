#include "engine/aggregates/workflow.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include "events/json_fields.h"

namespace causeway::workflow_agg {
namespace json = boost::json;

namespace {

DraftEvent event(const char* type, const State& s) {
  DraftEvent e;
  e.type = type;
  e.data["workflow_id"] = s.workflow_id;
  e.data["org_id"] = s.org_id;
  return e;
}

Status editable(const State& s) {
  if (!s.exists) return Error::not_found("no such workflow");
  if (s.archived) return Error::conflict("the workflow is archived");
  return ok_status();
}

}  // namespace

const Version* State::by_number(std::int64_t n) const {
  return n >= 1 && static_cast<std::size_t>(n) <= versions.size() ? &versions[static_cast<std::size_t>(n - 1)]
                                                                   : nullptr;
}

const Version* State::by_hash(const std::string& hash) const {
  for (const auto& v : versions)
    if (v.hash == hash) return &v;
  return nullptr;
}

std::string stream_of(const std::string& workflow_id) { return workflow_id; }

Result<Decision> decide_create(const State& s, const std::string& workflow_id, const std::string& org_id,
                               const Draft& draft, const json::object& forked_from, const std::string& template_name) {
  if (s.exists) return Error::conflict("the workflow already exists");
  State fresh;
  fresh.workflow_id = workflow_id;
  fresh.org_id = org_id;
  auto e = event("workflow.created", fresh);
  e.data["name"] = draft.name;
  e.data["draft"] = draft.definition;
  e.data["draft_hash"] = draft.hash;
  if (!forked_from.empty()) e.data["forked_from"] = forked_from;
  if (!template_name.empty()) e.data["template"] = template_name;
  Decision d;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_update_draft(const State& s, const Draft& draft) {
  if (auto st = editable(s); !st) return st.error();
  Decision d;
  if (draft.hash == s.draft_hash && draft.name == s.name) return d;
  auto e = event("workflow.draft_updated", s);
  e.data["name"] = draft.name;
  e.data["draft"] = draft.definition;
  e.data["draft_hash"] = draft.hash;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_publish(const State& s, bool valid) {
  if (auto st = editable(s); !st) return st.error();
  if (!valid) return Error::invalid("the draft is not valid; see the validation problems", "/definition");
  Decision d;
  if (const Version* v = s.latest(); v && v->hash == s.draft_hash) return d;
  auto e = event("workflow.published", s);
  e.data["version"] = static_cast<std::int64_t>(s.versions.size() + 1);
  e.data["hash"] = s.draft_hash;
  boost::system::error_code ec;
  e.data["definition"] = json::parse(s.draft, ec);
  if (ec) return Error::corruption("the stored draft is not JSON");
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_archive(const State& s, const std::string& reason) {
  if (!s.exists) return Error::not_found("no such workflow");
  Decision d;
  if (s.archived) return d;
  auto e = event("workflow.archived", s);
  e.data["reason"] = reason;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_share(const State& s, bool is_public) {
  if (auto st = editable(s); !st) return st.error();
  Decision d;
  if (s.is_public == is_public) return d;
  auto e = event("workflow.sharing_changed", s);
  e.data["public"] = is_public;
  d.events.push_back(std::move(e));
  return d;
}

void apply(State& s, const std::string& type, const json::object& d, std::int64_t) {
  if (type == "workflow.created" || type == "workflow.draft_updated") {
    if (type == "workflow.created") {
      s.exists = true;
      s.workflow_id = string_field(d, "workflow_id");
      s.org_id = string_field(d, "org_id");
    }
    s.name = string_field(d, "name");
    if (auto* v = d.if_contains("draft")) s.draft = json::serialize(*v);
    s.draft_hash = string_field(d, "draft_hash");
  } else if (type == "workflow.published") {
    Version v;
    auto* n = d.if_contains("version");
    v.number = n && n->is_int64() ? n->as_int64() : static_cast<std::int64_t>(s.versions.size() + 1);
    v.hash = string_field(d, "hash");
    if (auto* def = d.if_contains("definition")) v.definition = json::serialize(*def);
    s.versions.push_back(std::move(v));
  } else if (type == "workflow.archived") {
    s.archived = true;
  } else if (type == "workflow.sharing_changed") {
    auto* p = d.if_contains("public");
    s.is_public = p && p->is_bool() && p->as_bool();
  }
}

}  // namespace causeway::workflow_agg
