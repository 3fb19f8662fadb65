// Analyst SQL: one read-only statement over the views, by the operator or
// scoped to one tenant (POST /v1/query, causeway query).
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "events/result.h"

namespace causeway {

struct SqlLimits {
  std::size_t max_rows = 10'000;
  std::chrono::milliseconds timeout{5'000};
  int max_length = 1 << 20;       // longest string or blob a query may build (SQLITE_LIMIT_LENGTH)
  int cache_kib = 16 * 1024;      // page cache of the query's connection
  std::size_t max_bytes = 32u << 20;  // values a result may carry in all (rows past it are cut off)
};

// Runs one read-only statement against the views file at `path`.
//   - an authorizer allows SELECT and reads only: writes, ATTACH, PRAGMA, DDL,
//     transactions and load_extension() are refused (Errc::forbidden);
//   - a tenant's statement cannot name the views' tables at all: its
//     connection's main database is an empty in-memory one and the views file
//     is attached read-only under a random per-connection name. Every table of
//     the file has a TEMP VIEW of the same name, which unqualified names
//     resolve to first: for each view with a tenant scope that the tenant's
//     role may read (ViewDef::roles), a public view over a secret view (also
//     randomly named) that reads the table filtered by the tenant's scope; for
//     every other table an empty one. So however a statement reaches a table —
//     columns, count(*), exists(), subqueries, CTEs, joins (USING and NATURAL
//     joins included, whose columns SQLite's authorizer does not report),
//     windows, json_each over a subquery — it reaches the tenant's rows or
//     none. On top, an allow-list decided in one place (analyst_sql.cpp,
//     Sandbox::may_read) refuses with Errc::forbidden naming the table every
//     read the authorizer reports of anything but the tenant's views: other
//     tables, other roles' views, the schema and statistics tables, pragma
//     table functions;
//   - past `timeout` the statement is interrupted (Errc::unavailable); past
//     `max_rows` rows or `max_bytes` of values it stops with `truncated` set
//     and `truncated_by` naming the limit ("max_rows=N" / "max_bytes=N");
//   - `before_rows`, when set, is called once the statement is compiled and
//     before any row is read, with whether it reads the audit log
//     (audit_index); an error it returns is returned and no row is read.
// `on_columns` is called once, then `on_row` per row (values as JSON).
struct SqlResult {
  std::size_t rows = 0;
  std::size_t bytes = 0;  // of the values returned
  bool truncated = false;
  std::string truncated_by;
  bool reads_audit = false;
};
struct SqlAccess {
  std::optional<std::string> tenant;  // nullopt: the operator (every row of every view)
  std::string role;                   // the tenant key's role
  std::function<Status(bool reads_audit)> before_rows;
};
Result<SqlResult> run_analyst_sql(const std::string& path, const std::string& statement, const SqlAccess& access,
                                  const SqlLimits& limits,
                                  const std::function<void(const std::vector<std::string>&)>& on_columns,
                                  const std::function<void(const std::vector<boost::json::value>&)>& on_row);

}  // namespace causeway
