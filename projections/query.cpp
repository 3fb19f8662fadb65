#include "projections/query.h"

#include <sodium.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>
#include <ctime>
#include <fmt/format.h>

#include "events/base64.h"
#include "events/codec.h"

namespace causeway {
namespace json = boost::json;
using K = ViewColumn::Kind;

namespace {

ViewColumn col(std::string name, K kind = K::text, bool filter = false, bool sort = false, bool personal = false) {
  return ViewColumn{std::move(name), kind, personal, filter, sort};
}

std::optional<std::int64_t> parse_i64(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Microseconds, or RFC 3339 UTC ("2026-11-22T10:00:00Z", optional fraction).
std::optional<std::int64_t> parse_time(std::string_view s) {
  if (auto n = parse_i64(s)) return n;
  return parse_rfc3339_us(s);
}

const ViewColumn* column_of(const ViewDef& v, std::string_view name) {
  for (const auto& c : v.columns)
    if (c.name == name) return &c;
  return nullptr;
}


}  // namespace

json::value read_cell(sql::Stmt& s, int i) {
  switch (s.type(i)) {
    case SQLITE_NULL: return nullptr;
    case SQLITE_INTEGER: return s.i64(i);
    case SQLITE_FLOAT: return s.f64(i);
    case SQLITE_BLOB: {
      auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(s.raw(), i));
      std::string hex(static_cast<std::size_t>(sqlite3_column_bytes(s.raw(), i)) * 2 + 1, '\0');
      sodium_bin2hex(hex.data(), hex.size(), p, static_cast<std::size_t>(sqlite3_column_bytes(s.raw(), i)));
      hex.pop_back();
      return json::string(hex);
    }
    default: return json::string(s.text(i));
  }
}

const std::vector<ViewDef>& view_catalog() {
  static const std::vector<ViewDef> all = {
      {"users", "users", "users", "user_id IN (SELECT user_id FROM :db.memberships WHERE org_id = :tenant)", {},
       {col("user_id", K::text, true, true), col("email", K::text, false, false, true),
        col("display_name", K::text, false, false, true), col("signed_up_at", K::time, true, true),
        col("position", K::integer)},
       {"user_id"}, "signed_up_at", {"memberships"}},
      {"organizations", "organizations", "organizations", "org_id = :tenant", {},
       {col("org_id", K::text, true, true), col("slug", K::text, true, true), col("name", K::text, false, true),
        col("owner_user_id", K::text, true), col("created_at", K::time, true, true),
        col("updated_at", K::time, true, true), col("version", K::integer), col("position", K::integer)},
       {"org_id"}, "created_at"},
      {"memberships", "memberships", "memberships", "org_id = :tenant", {},
       {col("org_id", K::text, true, true), col("user_id", K::text, true, true), col("role", K::text, true, true),
        col("joined_at", K::time, true, true), col("position", K::integer)},
       {"org_id", "user_id"}, "joined_at"},
      {"api_keys", "api_keys", "api_keys", "org_id = :tenant", {"owner", "admin"},
       {col("key_id", K::text, true, true), col("org_id", K::text, true), col("name", K::text, true, true),
        col("role", K::text, true, true), col("created_at", K::time, true, true), col("revoked_at", K::time),
        col("position", K::integer)},
       {"key_id"}, "created_at"},
      {"audit", "audit_index", "audit", "tenant = :tenant", {"owner", "compliance_officer"},
       {col("partition", K::integer, true, true), col("position", K::integer, true, true),
        col("time", K::time, true, true), col("tenant", K::text, true), col("actor", K::text, true),
        col("impersonator", K::text, true), col("action", K::text, true), col("target", K::text, true),
        col("subject", K::text, true), col("event_id", K::text, true)},
       {"partition", "position"}, "time"},
      {"usage", "usage_meters", "usage", "tenant = :tenant", {},
       {col("tenant", K::text, true, true), col("metric", K::text, true, true), col("month", K::text, true, true),
        col("count", K::integer), col("sum", K::integer), col("unique_count", K::integer)},
       {"tenant", "metric", "month"}, "month"},
      {"signup_funnel", "signup_funnel", "funnel", "", {},
       {col("user_id", K::text, true, true), col("signed_up_at", K::time, true, true),
        col("cohort_week", K::text, true, true), col("verified_at", K::time), col("first_org_at", K::time),
        col("first_workflow_at", K::time), col("first_run_at", K::time), col("paid_at", K::time),
        col("referred_by", K::text, true)},
       {"user_id"}, "signed_up_at"},
      {"data_subject_requests", "data_subject_requests", "dsr", "", {},
       {col("request_id", K::text), col("subject", K::text, true), col("kind", K::text, true),
        col("status", K::text, true), col("outcome", K::text), col("opened_at", K::time, false, true),
        col("due_at", K::time, true, true), col("extended", K::integer), col("closed_at", K::time),
        col("position", K::integer)},
       {"request_id"}, "due_at"},
      {"retention_policies", "retention_policies", "retention", "scope IN (:tenant, 'all')",
       {"owner", "compliance_officer"},
       {col("scope", K::text, true, true), col("category", K::text, true, true), col("max_age_days", K::integer),
        col("reason", K::text), col("set_by", K::text, true), col("set_at", K::time, true, true),
        col("position", K::integer)},
       {"scope", "category"}, "category"},
      {"retention_enforcements", "retention_enforcements", "retention", "scope = :tenant",
       {"owner", "compliance_officer"},
       {col("partition", K::integer, true, true), col("position", K::integer, true, true), col("scope", K::text, true),
        col("category", K::text, true, true), col("day", K::text, true, true), col("max_age_days", K::integer),
        col("policy", K::text, true), col("enforced_at", K::time, true, true)},
       {"partition", "position"}, "position"},
      // Workflows and runs (projections/views/workflow_views.h). Only NOT NULL
      // columns are sortable: a cursor holds no NULL.
      {"workflows", "workflows", "workflows", "org_id = :tenant", {"owner", "admin", "member", "analyst"},
       {col("workflow_id", K::text, true, true), col("org_id", K::text, true), col("name", K::text, true, true),
        col("status", K::text, true, true), col("latest_version", K::integer, true), col("draft_hash", K::text),
        col("public", K::integer, true), col("forked_from_workflow", K::text, true),
        col("forked_from_version", K::integer), col("template", K::text, true), col("created_at", K::time, true, true),
        col("updated_at", K::time, true, true), col("position", K::integer)},
       {"workflow_id"}, "created_at"},
      {"workflow_versions", "workflow_versions", "workflows", "org_id = :tenant",
       {"owner", "admin", "member", "analyst"},
       {col("workflow_id", K::text, true, true), col("version", K::integer, true, true), col("org_id", K::text, true),
        col("hash", K::text, true), col("published_at", K::time, true, true), col("published_by", K::text, true),
        col("position", K::integer)},
       {"workflow_id", "version"}, "published_at"},
      {"workflow_runs", "workflow_runs", "workflows", "org_id = :tenant", {"owner", "admin", "member", "analyst"},
       {col("run_id", K::text, true, true), col("org_id", K::text, true), col("workflow_id", K::text, true, true),
        col("version", K::integer, true), col("hash", K::text, true), col("status", K::text, true, true),
        col("stuck", K::integer, true), col("current_node", K::text, true), col("trigger_kind", K::text, true),
        col("started_at", K::time, true, true), col("updated_at", K::time, true, true), col("ended_at", K::time, true),
        col("last_progress_at", K::time, true, true), col("steps", K::integer), col("attempts_failed", K::integer),
        col("error_class", K::text, true), col("error", K::text), col("position", K::integer)},
       {"run_id"}, "started_at"},
      {"workflow_steps", "workflow_steps", "workflows", "org_id = :tenant", {"owner", "admin", "member", "analyst"},
       {col("partition", K::integer, true, true), col("position", K::integer, true, true),
        col("run_id", K::text, true), col("org_id", K::text, true), col("node", K::text, true),
        col("visit", K::integer), col("attempt", K::integer), col("event", K::text, true),
        col("at", K::time, true, true), col("error_class", K::text, true), col("error", K::text),
        col("due_at", K::time)},
       {"partition", "position"}, "position"},
  };
  return all;
}

const ViewDef* find_view(std::string_view name) {
  for (const auto& v : view_catalog())
    if (v.name == name) return &v;
  return nullptr;
}

std::string scope_sql(const ViewDef& v, const std::string& tenant, const std::string& db) {
  std::string out = v.scope;
  const std::string quoted = sql::quote(tenant);
  for (std::size_t at; (at = out.find(":tenant")) != std::string::npos;) out.replace(at, 7, quoted);
  for (std::size_t at; (at = out.find(":db.")) != std::string::npos;) out.replace(at, 3, db);
  return out;
}

Status parse_list_params(ListRequest& req, const std::vector<std::pair<std::string, std::string>>& params) {
  const ViewDef& v = *req.view;
  for (const auto& [key, value] : params) {
    if (key == "limit") {
      auto n = parse_i64(value);
      if (!n || *n < 1 || *n > 1000) return Error::invalid("limit must be between 1 and 1000");
      req.limit = static_cast<std::size_t>(*n);
    } else if (key == "cursor") {
      req.cursor = value;
    } else if (key == "sort") {
      std::string_view name = value;
      req.descending = !name.empty() && name.front() == '-';
      if (req.descending) name.remove_prefix(1);
      auto* c = column_of(v, name);
      if (!c || !c->sort) return Error::invalid(fmt::format("cannot sort {} by {}", v.name, name));
      req.sort = std::string(name);
    } else if (key == "position") {
      continue;  // read-your-writes token, handled by the caller
    } else {
      std::string name = key, op = "=";
      if (key.ends_with(".gte")) name = key.substr(0, key.size() - 4), op = ">=";
      else if (key.ends_with(".lt")) name = key.substr(0, key.size() - 3), op = "<";
      auto* c = column_of(v, name);
      if (!c || !c->filter) return Error::invalid(fmt::format("unknown query parameter {}", key));
      if (op != "=" && c->kind == K::text) return Error::invalid(fmt::format("{} is not a number or time", name));
      if (c->kind != K::text) {
        auto n = c->kind == K::time ? parse_time(value) : parse_i64(value);
        if (!n)
          return Error::invalid(fmt::format("{} must be {}", key,
                                            c->kind == K::time ? "an RFC 3339 UTC time or microseconds" : "an integer"));
        req.filters.push_back({name, op, std::to_string(*n)});
      } else {
        req.filters.push_back({name, op, value});
      }
    }
  }
  return ok_status();
}

Result<Page> list_view(sql::Db& db, const ListRequest& req, KeyVault* vault) {
  const ViewDef& v = *req.view;
  const std::string sort = req.sort.empty() ? v.default_sort : req.sort;
  std::vector<std::string> order{sort};
  for (const auto& k : v.key)
    if (k != sort) order.push_back(k);

  std::string q = "SELECT ";
  for (std::size_t i = 0; i < v.columns.size(); ++i) q += (i ? ", " : "") + v.columns[i].name;
  q += " FROM " + v.table + " WHERE 1";
  if (req.tenant) {
    if (v.scope.empty()) return Error::forbidden(fmt::format("{} is an operator view", v.name));
    q += " AND (" + scope_sql(v, *req.tenant) + ")";
  }
  for (const auto& f : req.filters) q += fmt::format(" AND {} {} ?", f.column, f.op);

  std::vector<json::value> after;
  if (!req.cursor.empty()) {
    auto raw = base64_decode(req.cursor, Base64::url);
    boost::system::error_code ec;
    json::value parsed = raw ? json::parse(*raw, ec) : json::value();
    if (!raw || ec || !parsed.is_array() || parsed.as_array().size() != order.size())
      return Error::invalid("the cursor is not one this endpoint issued");
    for (auto& x : parsed.as_array()) {
      if (!x.is_int64() && !x.is_string()) return Error::invalid("the cursor is not one this endpoint issued");
      after.push_back(x);
    }
    std::string lhs, rhs;
    for (std::size_t i = 0; i < order.size(); ++i) {
      lhs += (i ? ", " : "") + order[i];
      rhs += i ? ", ?" : "?";
    }
    q += fmt::format(" AND ({}) {} ({})", lhs, req.descending ? "<" : ">", rhs);
  }
  q += " ORDER BY ";
  for (std::size_t i = 0; i < order.size(); ++i) q += (i ? ", " : "") + order[i] + (req.descending ? " DESC" : " ASC");
  q += fmt::format(" LIMIT {}", req.limit + 1);

  auto stmt = db.prepare(q);
  if (!stmt) return std::move(stmt).error();
  int i = 0;
  for (const auto& f : req.filters) {
    auto* c = column_of(v, f.column);
    if (c->kind == K::text) stmt->bind(++i, f.value);
    else stmt->bind(++i, *parse_i64(f.value));
  }
  for (const auto& a : after) {
    if (a.is_int64()) stmt->bind(++i, a.as_int64());
    else stmt->bind(++i, std::string_view(a.as_string()));
  }

  Page page;
  for (const auto& c : v.columns) page.columns.push_back(c.name);
  std::vector<json::value> last_order;
  for (;;) {
    auto r = stmt->step();
    if (!r) return std::move(r).error();
    if (!*r) break;
    if (page.rows.size() == req.limit) {
      page.next_cursor = base64_encode(json::serialize(json::array(last_order.begin(), last_order.end())), Base64::url);
      break;
    }
    std::vector<json::value> row;
    last_order.clear();
    for (int k = 0; k < static_cast<int>(v.columns.size()); ++k) {
      json::value cell = read_cell(*stmt, k);
      const auto& c = v.columns[static_cast<std::size_t>(k)];
      if (c.personal && cell.is_string()) {
        boost::system::error_code ec;
        json::value sealed = json::parse(cell.as_string(), ec);
        if (ec) return Error::corruption(fmt::format("{}.{} holds a malformed sealed value", v.table, c.name));
        if (vault) {
          if (auto st = vault->open_all(sealed); !st) return std::move(st).error();
        } else if (is_sealed(sealed)) {
          sealed = "[sealed]";
        }
        cell = std::move(sealed);
      }
      row.push_back(std::move(cell));
    }
    for (const auto& name : order)
      for (std::size_t k = 0; k < v.columns.size(); ++k)
        if (v.columns[k].name == name) last_order.push_back(read_cell(*stmt, static_cast<int>(k)));
    page.rows.push_back(std::move(row));
  }
  return page;
}

json::value cell_json(const K kind, const json::value& v) {
  if (kind == K::time && v.is_int64()) return json::string(rfc3339_us(v.as_int64()));
  return v;
}

}  // namespace causeway
