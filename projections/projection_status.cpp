#include "projections/projection_status.h"

#include "projections/runtime.h"
#include "projections/view_files.h"

namespace causeway {

std::string_view to_string(ProjectionState s) {
  switch (s) {
    case ProjectionState::running: return "running";
    case ProjectionState::failed: return "failed";
    case ProjectionState::rebuilding: return "rebuilding";
    case ProjectionState::frozen: return "frozen";
    case ProjectionState::missing: return "missing";
  }
  return "unknown";
}

ProjectionStatus status_of(const Projection& p, const ProjectionTrack& t, bool rebuilding) {
  ProjectionStatus s;
  s.name = p.name();
  s.version = p.version();
  s.state = rebuilding                                     ? ProjectionState::rebuilding
            : t.state == ProjectionTrack::State::failed ? ProjectionState::failed
            : t.state == ProjectionTrack::State::frozen ? ProjectionState::frozen
                                                        : ProjectionState::running;
  s.checkpoint.offsets = t.checkpoint;
  s.error = t.error;
  s.error_position = t.error_position;
  return s;
}

void add_lag(EventLog& log, std::optional<std::int64_t> now_us, std::vector<ProjectionStatus>& statuses) {
  const auto head = log.head();
  for (auto& s : statuses) {
    for (std::size_t p = 0; p < s.checkpoint.offsets.size() && p < head.offsets.size(); ++p) {
      if (head.offsets[p] <= s.checkpoint.offsets[p]) continue;
      s.lag_events += head.offsets[p] - s.checkpoint.offsets[p];
      if (!now_us) continue;
      auto next = log.read_forward(static_cast<std::uint32_t>(p), s.checkpoint.offsets[p] + 1, 1, HashCheck::trust);
      if (next && !next->empty())
        s.lag_ms = std::max<std::int64_t>(s.lag_ms, (*now_us - next->front().recorded_at_us) / 1000);
    }
  }
}

Result<std::vector<ProjectionStatus>> ProjectionRuntime::stored_status(EventLog& log, const std::string& data_dir) {
  ViewFiles files(data_dir);
  auto path = files.current();
  if (!path) return std::move(path).error();
  auto db = sql::Db::open(*path, sql::Db::Mode::read_only);
  if (!db) return std::move(db).error();
  auto row = (*db)->prepare("SELECT version, schema_hash, error, error_position FROM _projections WHERE name = ?");
  if (!row) return std::move(row).error();
  auto cps = (*db)->prepare("SELECT partition, position FROM _checkpoints WHERE projection = ?");
  if (!cps) return std::move(cps).error();
  std::vector<ProjectionStatus> out;
  for (const auto& p : make_projections()) {
    ProjectionStatus s;
    s.name = p->name();
    s.version = p->version();
    s.checkpoint.offsets.assign(log.partitions(), 0);
    row->bind_all(p->name());
    auto found = row->step();
    if (!found) return std::move(found).error();
    if (!*found) {
      s.state = ProjectionState::missing;
    } else {
      bool same = row->i64(0) == p->version() && row->text(1) == p->schema_hash();
      s.error = row->is_null(2) ? std::string() : row->text(2);
      s.error_position = row->is_null(3) ? 0 : static_cast<std::uint64_t>(row->i64(3));
      s.state = !same ? ProjectionState::frozen : !s.error.empty() ? ProjectionState::failed : ProjectionState::running;
    }
    row->reset();
    cps->bind_all(p->name());
    for (;;) {
      auto r = cps->step();
      if (!r) return std::move(r).error();
      if (!*r) break;
      auto part = static_cast<std::size_t>(cps->i64(0));
      if (part < s.checkpoint.offsets.size()) s.checkpoint.offsets[part] = static_cast<std::uint64_t>(cps->i64(1));
    }
    cps->reset();
    out.push_back(std::move(s));
  }
  add_lag(log, std::nullopt, out);  // events only: no clock here
  return out;
}

}  // namespace causeway
