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
  std::vector<std::string> scope_reads;  // tables `scope` reads besides `table`
};

const std::vector<ViewDef>& view_catalog();
const ViewDef* find_view(std::string_view name);
// `scope` with :tenant replaced by the quoted tenant id, and the other tables
// it names (":db.<table>") read from database `db`.
std::string scope_sql(const ViewDef& v, const std::string& tenant, const std::string& db = "main");

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

// A column of the current row as JSON: null, int64, double, text, or a blob as lowercase hex.
boost::json::value read_cell(sql::Stmt& s, int i);

// Rendering shared by the REST endpoints, the SQL endpoint and the CLI (CSV: events/csv.h).
boost::json::value cell_json(const ViewColumn::Kind kind, const boost::json::value& v);



}  // namespace causeway
