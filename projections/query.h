// Queries over the views: the catalogue behind the REST read endpoints, keyset
// pagination, and the analyst's sandboxed SQL.
//
// Tenant scoping is by construction, not by caller discipline: every view has a
// scope predicate over its own rows, and a tenant's query (REST or SQL) can
// only reach rows that satisfy it. A null tenant means the operator (admin
// token): every row.
#pragma once

#include <boost/json/array.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "events/csv.h"
#include "events/key_vault.h"
#include "projections/sqlite.h"

namespace causeway {

struct ViewColumn {
  enum class Kind { text, integer, time };  // time: microseconds since the epoch, rendered RFC 3339
  std::string name;
  Kind kind = Kind::text;
  bool personal = false;  // sealed in the row; opened with the vault, "[erased]" after erasure
  bool filter = false;    // usable as ?name=value (and ?name.gte= / ?name.lt= for numbers)
  bool sort = false;      // usable as ?sort=name or ?sort=-name
};

struct ViewDef {
  std::string name;        // URL name: /v1/views/{name}
  std::string table;
  std::string projection;  // whose checkpoint read-your-writes waits on
  // SQL predicate selecting one tenant's rows; ":tenant" stands for the tenant.
  // Empty: the view is global (operator only).
  std::string scope;
  std::vector<std::string> roles;  // tenant roles that may read it; empty = every role
  std::vector<ViewColumn> columns;
  std::vector<std::string> key;  // unique row order, the pagination tie-break
  std::string default_sort;
};

const std::vector<ViewDef>& view_catalog();
const ViewDef* find_view(std::string_view name);
// `scope` with :tenant replaced by the quoted tenant id.
std::string scope_sql(const ViewDef& v, const std::string& tenant);

struct ListRequest {
  const ViewDef* view = nullptr;
  std::optional<std::string> tenant;  // nullopt: operator (every row)
  struct Filter {
    std::string column;
    std::string op;  // "=", ">=", "<"
    std::string value;
  };
  std::vector<Filter> filters;
  std::string sort;  // a sortable column; empty = default
  bool descending = false;
  std::size_t limit = 100;
  std::string cursor;  // from a previous page's next_cursor
};

struct Page {
  std::vector<std::string> columns;
  std::vector<std::vector<boost::json::value>> rows;  // null, int64 or string
  std::string next_cursor;                            // empty on the last page
};

// Parses a query string parameter list into `req` (view already set). Errors
// name the parameter.
Status parse_list_params(ListRequest& req, const std::vector<std::pair<std::string, std::string>>& params);
// One page of `req`. Personal columns are opened with `vault` (or "[erased]").
Result<Page> list_view(sql::Db& db, const ListRequest& req, KeyVault* vault);

// Rendering shared by the REST endpoints, the SQL endpoint and the CLI (CSV: events/csv.h).
boost::json::value cell_json(const ViewColumn::Kind kind, const boost::json::value& v);

// ---- Analyst SQL ----

struct SqlLimits {
  std::size_t max_rows = 10'000;
  std::chrono::milliseconds timeout{5'000};
  int max_length = 1 << 20;       // longest string or blob a query may build (SQLITE_LIMIT_LENGTH)
  int cache_kib = 16 * 1024;      // page cache of the query's connection
};

// Runs one read-only statement against the views file at `path`.
//   - the connection is opened read-only; an authorizer allows SELECT and reads
//     only: writes, ATTACH, PRAGMA, DDL, transactions and load_extension() are
//     refused (Errc::forbidden);
//   - a tenant sees each scopable view through a TEMP VIEW of the same name
//     that reads a second TEMP VIEW, with a random per-connection name, which
//     filters the main table by the tenant's scope; the authorizer lets only
//     those secret views read main tables and refuses the schema tables, so
//     no spelling of a query (CTEs named like a view included) reaches
//     another tenant's rows;
//   - past `timeout` the statement is interrupted (Errc::unavailable), past
//     `max_rows` rows it stops with `truncated` set.
//   - a tenant's role sees only the views its role may read (ViewDef::roles):
//     the others have no TEMP VIEW, so naming them reaches main and is refused;
//   - `before_rows`, when set, is called once the statement is compiled and
//     before any row is read, with whether it reads the audit log
//     (audit_index); an error it returns is returned and no row is read.
// `on_columns` is called once, then `on_row` per row (values as JSON).
struct SqlResult {
  std::size_t rows = 0;
  bool truncated = false;
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
