// The workflow aggregate (stream "workflow-<32 hex>"): one organization's
// workflow — its editable draft and its immutable published versions. Tenant:
// the organization. Pure functions only; validation of a definition is done
// by the caller (engine/workflow/definition.h) and passed in.
//
// Versions are numbered 1, 2, … and identified by the content hash of their
// definition (engine/workflow/definition.h content_hash); a run is pinned to
// that hash. Publishing the draft when the latest version has the same hash
// writes nothing. An archived workflow keeps its versions (running runs go on)
// but its draft cannot change and no run starts.
//
// Events (no personal data; docs/workflows.md "Events"):
//   workflow.created          {workflow_id, org_id, name, draft, draft_hash, forked_from?, template?}
//   workflow.draft_updated    {workflow_id, org_id, name, draft, draft_hash}
//   workflow.published        {workflow_id, org_id, version, hash, definition}
//   workflow.archived         {workflow_id, org_id, reason}
//   workflow.sharing_changed  {workflow_id, org_id, public}
#pragma once

#include <boost/json/object.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/decision.h"
#include "events/result.h"

namespace causeway::workflow_agg {

struct Version {
  std::int64_t number = 0;
  std::string hash;
  std::string definition;  // canonical JSON text
  template <class Ar>
  void serialize(Ar& ar) { ar(number, hash, definition); }
};

struct State {
  bool exists = false;
  bool archived = false;
  bool is_public = false;
  std::string workflow_id, org_id, name;
  std::string draft;  // JSON text
  std::string draft_hash;
  std::vector<Version> versions;
  template <class Ar>
  void serialize(Ar& ar) { ar(exists, archived, is_public, workflow_id, org_id, name, draft, draft_hash, versions); }

  const Version* latest() const { return versions.empty() ? nullptr : &versions.back(); }
  const Version* by_number(std::int64_t n) const;
  const Version* by_hash(const std::string& hash) const;
};
inline constexpr std::uint32_t kStateFormat = 1;

std::string stream_of(const std::string& workflow_id);  // the id is already "workflow-<hex>"

struct Draft {
  std::string name;
  boost::json::value definition;
  std::string hash;
};

Result<Decision> decide_create(const State& s, const std::string& workflow_id, const std::string& org_id,
                               const Draft& draft, const boost::json::object& forked_from,
                               const std::string& template_name);
Result<Decision> decide_update_draft(const State& s, const Draft& draft);
// `valid` tells whether the draft passed validation (its problems are the caller's to report).
Result<Decision> decide_publish(const State& s, bool valid);
Result<Decision> decide_archive(const State& s, const std::string& reason);
Result<Decision> decide_share(const State& s, bool is_public);

void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

}  // namespace causeway::workflow_agg
