// `causeway projections status|rebuild` and `causeway query`: the read side
// from the command line (views_cli.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace causeway::cli {

// Prints one JSON line per projection: state, checkpoint, lag, error.
int projections_status(const std::string& data_dir);
// Rebuilds `names` (or all) offline into a new generation and publishes it.
// Refuses while a server holds the views (use POST /v1/admin/projections/rebuild).
int projections_rebuild(const std::string& data_dir, const std::vector<std::string>& names, bool all);

struct QueryOptions {
  std::string sql;
  std::optional<std::string> tenant;  // restrict to one organization's rows
  bool csv = false;
  std::size_t max_rows = 1'000'000;
  long timeout_ms = 60'000;
};
// Streams the result of one read-only statement to stdout.
int query(const std::string& data_dir, const QueryOptions& q);

}  // namespace causeway::cli
