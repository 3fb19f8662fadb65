#include "projections/analyst_sql.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <set>

#include "projections/query.h"
#include "projections/sqlite.h"

namespace causeway {
namespace json = boost::json;

namespace {

std::string random_hex16() {
  unsigned char rnd[16];
  randombytes_buf(rnd, sizeof rnd);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
  return hex;
}

// "name" as an SQL identifier.
std::string identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// One tenant-scoped view of the catalogue: the public TEMP VIEW a statement
// names (the table's name), over a secret TEMP VIEW (random name) that alone
// reads the attached table, filtered by the tenant's scope.
struct ScopedView {
  std::string name;                // temp.<table>
  std::string secret;              // temp.scoped_<salt>_<table>
  std::vector<std::string> reads;  // the attached tables the secret view reads: the table and its scope's
};

// What a tenant's connection is given, before the authorizer is set: the
// views file attached as `schema` (random), a scoped view per view the role
// may read, and an empty view over every other table of the file, so that no
// unqualified name reaches a table of the file.
struct Reach {
  std::string schema;
  std::vector<ScopedView> views;
  std::set<std::string, std::less<>> table_functions;  // the connection's virtual table modules
};

Result<Reach> give_reach(sql::Db& db, const std::string& path, const std::string& tenant, const std::string& role) {
  Reach reach;
  const std::string salt = random_hex16();
  reach.schema = "s_" + salt;
  if (auto st = db.exec(fmt::format("ATTACH DATABASE {} AS {}", sql::quote(sql::file_uri(path, "mode=ro")),
                                    reach.schema));
      !st)
    return std::move(st).error();
  std::string ddl;
  std::set<std::string> covered;
  for (const auto& v : view_catalog()) {
    if (v.scope.empty() || covered.contains(v.table)) continue;
    if (!v.roles.empty() && std::find(v.roles.begin(), v.roles.end(), role) == v.roles.end()) continue;
    ScopedView s{v.table, fmt::format("scoped_{}_{}", salt, v.table), {v.table}};
    s.reads.insert(s.reads.end(), v.scope_reads.begin(), v.scope_reads.end());
    ddl += fmt::format("CREATE TEMP VIEW {0} AS SELECT * FROM {1}.{2} WHERE {3};", s.secret, reach.schema, v.table,
                       scope_sql(v, tenant, reach.schema));
    ddl += fmt::format("CREATE TEMP VIEW {0} AS SELECT * FROM temp.{1};", s.name, s.secret);
    covered.insert(v.table);
    reach.views.push_back(std::move(s));
  }
  auto tables = db.prepare(fmt::format(
      "SELECT name FROM {}.sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
      reach.schema));
  if (!tables) return std::move(tables).error();
  for (;;) {
    auto r = tables->step();
    if (!r) return std::move(r).error();
    if (!*r) break;
    const std::string name = tables->text(0);
    if (covered.contains(name)) continue;
    ddl += fmt::format("CREATE TEMP VIEW {0} AS SELECT * FROM {1}.{0} WHERE 0;", identifier(name), reach.schema);
  }
  // The JSON table functions declare their tables on first use, reading the
  // schema; done here, before the authorizer, a statement's use reads none.
  ddl += "SELECT * FROM json_each('[]'); SELECT * FROM json_tree('[]');";
  if (auto st = db.exec(ddl); !st) return std::move(st).error();
  auto modules = db.prepare("SELECT name FROM pragma_module_list");
  if (!modules) return std::move(modules).error();
  for (;;) {
    auto r = modules->step();
    if (!r) return std::move(r).error();
    if (!*r) break;
    reach.table_functions.insert(modules->text(0));
  }
  return reach;
}

// Table-valued functions a statement may use: they read only their arguments.
bool is_pure_table_function(std::string_view t) { return t == "json_each" || t == "json_tree"; }

struct Sandbox {
  std::optional<Reach> reach;  // a tenant's
  std::chrono::steady_clock::time_point deadline;
  bool reads_audit = false;   // the statement reads audit_index (set while compiling)
  bool declaring = false;     // a table-valued function is declaring its columns
  std::string refused_table;  // the first table or view a read of was refused

  // SQLITE_READ of `column` of `table` in database `db` from inside
  // `context` (the innermost view or trigger; null at the top level). SQLite
  // reports a read that names no column (count(*), exists) with an empty
  // column, the database as the statement or view wrote it (null when
  // unqualified) and, over a view it flattened, the table under the view
  // with no context. The allow-list, whole:
  //   - nothing named sqlite_* (schema, statistics, sequence tables) and
  //     no table-valued function but json_each and json_tree;
  //   - unqualified names: a tenant's unqualified name can only resolve to
  //     its own CTEs and subqueries, a TEMP VIEW (scoped or empty) or the
  //     empty in-memory main database;
  //   - a public scoped view; a secret view from its own public view only;
  //   - a table of the attached file that a scoped view reads, from inside
  //     that view's secret view, or with no column and no context (a count
  //     over the flattened view, which reaches the rows the view filters).
  // Every other read is refused: other tables (the empty views over them
  // read the table from inside their own name), operator views, other roles'
  // views, pragma functions.
  bool may_read(std::string_view table, std::string_view column, const char* db, const char* context) const {
    if (!reach) return true;
    if (is_pure_table_function(table)) return true;
    if (table.starts_with("sqlite_") || reach->table_functions.contains(table)) return false;
    if (!db) return true;
    const std::string_view in = context ? context : "";
    const std::string_view where = db;
    auto reads = [&](const ScopedView& v) {
      return std::find(v.reads.begin(), v.reads.end(), table) != v.reads.end();
    };
    for (const auto& v : reach->views) {
      if (where == "temp" && table == v.name) return true;
      if (where == "temp" && table == v.secret) return in == v.name;
      if (where == reach->schema && in == v.secret) return reads(v);
    }
    if (where != reach->schema || !column.empty() || context) return false;
    return std::any_of(reach->views.begin(), reach->views.end(), reads);
  }

  int refuse(std::string what) {
    if (refused_table.empty()) refused_table = std::move(what);
    return SQLITE_DENY;
  }
};

int authorize(void* user, int action, const char* a1, const char* a2, const char* a3, const char* a4) {
  auto* box = static_cast<Sandbox*>(user);
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_UPDATE:
      // A table-valued function declaring its columns on first use checks
      // an update of each column of main.sqlite_master, then a read of its
      // rowid. Nothing is written: main is read-only (the operator's views
      // file) or an empty in-memory database (a tenant's), query_only is on
      // and a statement that writes is refused before it runs.
      if (std::string_view(a1 ? a1 : "") != "sqlite_master" || std::string_view(a3 ? a3 : "") != "main")
        return SQLITE_DENY;
      box->declaring = true;
      return SQLITE_OK;
    case SQLITE_READ: {
      const std::string_view table = a1 ? a1 : "";
      if (box->declaring && table == "sqlite_master" && std::string_view(a2 ? a2 : "") == "ROWID") {
        box->declaring = false;
        return SQLITE_OK;
      }
      if (table == "audit_index") box->reads_audit = true;
      if (box->may_read(table, a2 ? a2 : "", a3, a4)) return SQLITE_OK;
      return box->refuse(std::string(table));
    }
    case SQLITE_FUNCTION: {
      std::string_view fn = a2 ? a2 : "";
      if (fn == "load_extension" || fn == "readfile" || fn == "writefile" || fn == "edit" || fn == "fts3_tokenizer")
        return SQLITE_DENY;
      return SQLITE_OK;
    }
    case SQLITE_PRAGMA:  // also the pragma_* table functions
      return box->refuse(std::string("pragma_") + (a1 ? a1 : ""));
    default:
      return SQLITE_DENY;  // writes, DDL, ATTACH/DETACH, transactions, ANALYZE...
  }
}

// Whether the statement's first keyword (after blanks and comments) starts a
// write, DDL, transaction or maintenance statement.
bool starts_as_write(std::string_view sql) {
  std::size_t i = 0;
  for (;;) {
    while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
    if (sql.substr(i, 2) == "--") {
      i = sql.find('\n', i);
      if (i == std::string_view::npos) return false;
    } else if (sql.substr(i, 2) == "/*") {
      i = sql.find("*/", i);
      if (i == std::string_view::npos) return false;
      i += 2;
    } else {
      break;
    }
  }
  std::string word;
  for (; i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])); ++i)
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i])));
  static const char* writes[] = {"insert", "update", "delete", "replace", "create", "drop", "alter",
                                 "attach", "detach", "pragma", "vacuum", "reindex", "analyze", "begin",
                                 "commit", "end", "rollback", "savepoint", "release"};
  return std::any_of(std::begin(writes), std::end(writes), [&](const char* w) { return word == w; });
}

int progress(void* user) {
  const auto* box = static_cast<const Sandbox*>(user);
  return std::chrono::steady_clock::now() > box->deadline ? 1 : 0;
}

// The connection: the views file itself for the operator; for a tenant an
// empty in-memory database with the file attached under a random name.
Result<std::unique_ptr<sql::Db>> open_for(const std::string& path, const SqlAccess& access, Sandbox& box) {
  auto db = sql::Db::open(access.tenant ? ":memory:" : path, sql::Db::Mode::read_only);
  if (!db) return std::move(db).error();
  if (access.tenant) {
    auto reach = give_reach(**db, path, *access.tenant, access.role);
    if (!reach) return std::move(reach).error();
    box.reach = std::move(reach).value();
  }
  return db;
}

Error refused(std::string_view table) {
  return Error::forbidden(
      fmt::format("the statement reads {}, which is not one of the views this caller may read", table));
}

Error compile_error(Error e, const Sandbox& box, sqlite3* raw, const std::string& statement) {
  if (!box.refused_table.empty()) return refused(box.refused_table);
  // A tenant's main database is empty: `main.x` names nothing it may read.
  constexpr std::string_view no_table = "no such table: ";
  if (const auto at = e.message.find(no_table); box.reach && at != std::string::npos)
    return refused(std::string_view(e.message).substr(at + no_table.size()));
  // A write can fail to compile before the authorizer sees it (a TEMP VIEW
  // cannot be modified, a table does not exist): it is still a refusal.
  if (sqlite3_errcode(raw) == SQLITE_AUTH || e.message.find("not authorized") != std::string::npos ||
      e.message.find("cannot modify") != std::string::npos || starts_as_write(statement))
    return Error::forbidden("the statement reads or does something analysts may not (only SELECT over the views)");
  return e;
}

}  // namespace

Result<SqlResult> run_analyst_sql(const std::string& path, const std::string& statement, const SqlAccess& access,
                                  const SqlLimits& limits,
                                  const std::function<void(const std::vector<std::string>&)>& on_columns,
                                  const std::function<void(const std::vector<json::value>&)>& on_row) {
  Sandbox box;
  auto db = open_for(path, access, box);
  if (!db) return std::move(db).error();
  sqlite3* raw = (*db)->raw();
  if (auto st = (*db)->exec(fmt::format("PRAGMA cache_size=-{}; PRAGMA query_only=ON", limits.cache_kib)); !st)
    return std::move(st).error();
  sqlite3_limit(raw, SQLITE_LIMIT_LENGTH, limits.max_length);
  sqlite3_limit(raw, SQLITE_LIMIT_SQL_LENGTH, 100'000);
  sqlite3_limit(raw, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_set_authorizer(raw, authorize, &box);
  box.deadline = std::chrono::steady_clock::now() + limits.timeout;
  sqlite3_progress_handler(raw, 1000, progress, &box);

  auto stmt = (*db)->prepare(statement);
  if (!stmt) return compile_error(std::move(stmt).error(), box, raw, statement);
  if (!sqlite3_stmt_readonly(stmt->raw())) return Error::forbidden("only read-only statements are allowed");
  if (access.before_rows)
    if (auto st = access.before_rows(box.reads_audit); !st) return std::move(st).error();
  std::vector<std::string> names;
  for (int i = 0; i < stmt->columns(); ++i) names.push_back(stmt->column_name(i));
  on_columns(names);
  SqlResult out;
  out.reads_audit = box.reads_audit;
  std::vector<json::value> row(names.size());
  for (;;) {
    auto r = stmt->step();
    if (!r) {
      // A pragma table function runs its pragma when it is stepped.
      if (!box.refused_table.empty()) return refused(box.refused_table);
      if (r.error().code == Errc::unavailable && std::chrono::steady_clock::now() > box.deadline)
        return Error::unavailable(fmt::format("the query ran past its {} ms limit", limits.timeout.count()));
      return std::move(r).error();
    }
    if (!*r) break;
    if (out.rows == limits.max_rows) {
      out.truncated = true;
      out.truncated_by = fmt::format("max_rows={}", limits.max_rows);
      break;
    }
    std::size_t row_bytes = 0;
    for (int i = 0; i < static_cast<int>(names.size()); ++i) {
      row[static_cast<std::size_t>(i)] = read_cell(*stmt, i);
      row_bytes += static_cast<std::size_t>(sqlite3_column_bytes(stmt->raw(), i)) + 8;
    }
    if (out.bytes + row_bytes > limits.max_bytes) {
      out.truncated = true;
      out.truncated_by = fmt::format("max_bytes={}", limits.max_bytes);
      break;
    }
    out.bytes += row_bytes;
    on_row(row);
    ++out.rows;
  }
  return out;
}

}  // namespace causeway
