#include "tools/views_cli.h"

#include <boost/json/serialize.hpp>
#include <iostream>

#include "events/rocks/rocks_log.h"
#include "events/upcast.h"
#include "projections/analyst_sql.h"
#include "projections/query.h"
#include "projections/runtime.h"
#include "tools/cli_common.h"
#include "tools/progress.h"

namespace causeway::cli {
namespace json = boost::json;

int projections_status(const std::string& data_dir) {
  auto log = open_log(data_dir);
  if (!log) return fail(log.error());
  auto status = ProjectionRuntime::stored_status(**log, data_dir);
  if (!status) return fail(status.error());
  int rc = 0;
  for (const auto& s : *status) {
    json::object o{{"name", s.name},          {"version", s.version},       {"state", to_string(s.state)},
                   {"checkpoint", s.checkpoint.str()}, {"lag_events", s.lag_events}};
    if (!s.error.empty()) {
      o["error"] = s.error;
      o["error_position"] = s.error_position;
      rc = 3;
    }
    print_json(o);
  }
  return rc;
}

int projections_rebuild(const std::string& data_dir, const std::vector<std::string>& names, bool all) {
  if (names.empty() && !all) {
    std::cerr << "causeway: name the projections to rebuild, or pass --all\n";
    return 2;
  }
  const char* online = "; rebuild through the running server instead: POST /v1/admin/projections/rebuild\n";
  if (auto free = not_in_use(data_dir); !free) {
    std::cerr << "causeway: " << free.error().message << online;
    return kExitError;
  }
  ViewFiles files(data_dir);
  if (auto st = files.lock_writer(); !st) {
    std::cerr << "causeway: " << st.error().message << online;
    return kExitError;
  }
  auto log = open_log(data_dir);
  if (!log) return fail(log.error());
  Upcaster upcaster;
  ProgressBar bar("rebuild");
  auto st = ProjectionRuntime::rebuild_offline(**log, upcaster, data_dir, all ? std::vector<std::string>{} : names,
                                               [&](std::uint64_t d, std::uint64_t t) { bar.update(d, t); });
  bar.done();
  if (!st) return fail(st.error());
  return projections_status(data_dir);
}

int query(const std::string& data_dir, const QueryOptions& q) {
  ViewFiles files(data_dir);
  auto path = files.current();
  if (!path) return fail(path.error());
  SqlLimits limits;
  limits.max_rows = q.max_rows;
  limits.timeout = std::chrono::milliseconds(q.timeout_ms);
  std::vector<std::string> cols;
  SqlAccess access;  // as the tenant's analysts see it
  access.tenant = q.tenant;
  access.role = "analyst";
  auto r = run_analyst_sql(
      *path, q.sql, access, limits,
      [&](const std::vector<std::string>& names) {
        cols = names;
        if (q.csv) std::cout << csv_line(std::vector<json::value>(names.begin(), names.end()));
      },
      [&](const std::vector<json::value>& row) {
        if (q.csv) {
          std::cout << csv_line(row);
          return;
        }
        json::object o;
        for (std::size_t i = 0; i < row.size(); ++i) o[cols[i]] = row[i];
        print_json(o);
      });
  if (!r) return fail(r.error());
  if (r->truncated) std::cerr << "causeway: stopped after " << r->rows << " rows (" << r->truncated_by << ")\n";
  return 0;
}

}  // namespace causeway::cli
