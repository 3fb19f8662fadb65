// The read side of the API: views, analyst SQL, projection status and rebuild.
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "api/json_body.h"
#include "api/log.h"
#include "api/routes.h"
#include "engine/async.h"
#include "engine/audit/export.h"
#include "events/codec.h"
#include "projections/analyst_sql.h"
#include "projections/query.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
namespace asio = boost::asio;
using asio::awaitable;

namespace {

bool wants_csv(const Request& req) {
  auto it = req.find(http::field::accept);
  return it != req.end() && it->value().find("text/csv") != std::string_view::npos;
}

// Query parameters are not a JSON body: a bad one is a 400, not a 422.
Response bad_parameter_or(const Error& e, const std::string& instance, const std::string& request_id, unsigned ver) {
  if (e.code == Errc::invalid) return problem(400, e.message, "", instance, request_id, ver);
  return problem(e, instance, request_id, ver);
}

}  // namespace

// The position token a read must observe: ?position= or Causeway-Position.
Result<std::optional<PositionToken>> requested_position(const Request& req, const boost::urls::url_view& url) {
  std::string text;
  if (auto it = req.find("Causeway-Position"); it != req.end()) text = std::string(it->value());
  for (auto p : url.params())
    if (p.key == "position") text = p.value;
  if (text.empty()) return std::optional<PositionToken>();
  auto t = PositionToken::parse(text);
  if (!t) return Error::invalid("position must be a position token such as \"42\"");
  return std::optional<PositionToken>(std::move(t).value());
}

awaitable<Status> Api::wait_applied(const std::string& projection, const PositionToken& token) {
  if (token.offsets.size() != log_.partitions())
    co_return Error::invalid(fmt::format("the position token must have {} part(s)", log_.partitions()));
  if (!log_.head().covers(token)) co_return Error::invalid("the position is ahead of the log");
  const auto deadline = std::chrono::steady_clock::now() + cfg_.read_wait;
  auto ex = co_await asio::this_coro::executor;
  for (;;) {
    auto timer = std::make_shared<asio::steady_timer>(ex);
    views_->notify_once([timer, ex] { asio::post(ex, [timer] { timer->cancel(); }); });
    if (views_->applied(projection).covers(token)) co_return ok_status();
    if (auto why = views_->failure(projection); !why.empty())
      co_return Error::unavailable(fmt::format("the view cannot catch up: {}", why));
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      co_return Error::unavailable(fmt::format("the view has not applied position {} within {} ms; retry",
                                               token.str(), cfg_.read_wait.count()));
    // The wake-up comes with the next applied batch; the cap bounds a missed one.
    timer->expires_after(std::min<std::chrono::steady_clock::duration>(deadline - now, std::chrono::milliseconds(50)));
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

awaitable<Response> Api::read_view(Request& req, const std::string& request_id, const std::string& name,
                                   const boost::urls::url_view& url, std::string org) {
  const unsigned ver = req.version();
  const std::string instance(url.encoded_path());
  auto who = authenticate(req, org);
  if (!who) co_return problem(who.error(), instance, request_id, ver);
  if (!org.empty() && !who->admin && who->tenant != org)
    co_return tenant_denied(problem(404, "no such organization", "", instance, request_id, ver));
  if (!org.empty() && who->admin) {  // the operator reads one organization's rows through its path
    who->admin = false;
    who->tenant = org;
    who->role = "owner";
  }
  const ViewDef* view = find_view(name);
  if (!view) co_return problem(404, "no such view", "", instance, request_id, ver);
  if (!who->admin) {
    if (view->scope.empty()) co_return problem(403, "this view is for the operator only", "", instance, request_id, ver);
    if (!view->roles.empty() && std::find(view->roles.begin(), view->roles.end(), who->role) == view->roles.end())
      co_return problem(403, fmt::format("the {} role may not read {}", who->role, name), "", instance, request_id,
                        ver);
  }
  ListRequest lr;
  lr.view = view;
  if (!who->admin) lr.tenant = who->tenant;
  std::vector<std::pair<std::string, std::string>> params;
  std::string reason;
  for (auto p : url.params()) {
    if (view->table == "audit_index" && p.key == "reason")
      reason = p.value;
    else
      params.emplace_back(p.key, p.value);
  }
  if (auto st = parse_list_params(lr, params); !st) co_return bad_parameter_or(st.error(), instance, request_id, ver);
  if (view->table == "audit_index") {
    // Reading the audit log is itself an event (who, what, why), durable
    // before any row is served.
    if (reason.empty() || reason.size() > 500)
      co_return problem(400, "reason is required (1 to 500 characters): reading the audit log is recorded", "",
                        instance, request_id, ver);
    json::object filters;
    for (auto& [k, v] : params) filters[k] = v;
    json::object data{{"reason", reason}, {"via", "view"}, {"filters", std::move(filters)}};
    const Actor actor = actor_of(*who);
    const std::string tenant = who->admin ? std::string() : who->tenant;
    auto recorded = co_await run_on(pipeline_.cpu(), [&]() -> Status {
      if (audit_read_unrecorded(actor, "view")) return ok_status();
      return audit::record_read(log_, actor, tenant, data, pipeline_.clock().now_us());
    });
    if (!recorded) co_return problem(recorded.error(), instance, request_id, ver);
  }
  auto pos = requested_position(req, url);
  if (!pos) co_return problem(400, pos.error().message, "", instance, request_id, ver);
  if (*pos)
    if (auto st = co_await wait_applied(view->projection, **pos); !st)
      co_return bad_parameter_or(st.error(), instance, request_id, ver);

  // Taken before the read: the rows reflect at least this position.
  const std::string applied = views_->applied(view->projection).str();
  auto lease = reads_->acquire();
  if (!lease) co_return problem(lease.error(), instance, request_id, ver);
  auto page = list_view(**lease, lr, &vault_);
  if (!page && page.error().code == Errc::invalid)
    co_return bad_parameter_or(page.error(), instance, request_id, ver);  // a cursor not issued here
  if (!page) {
    if (page.error().code == Errc::corruption || page.error().code == Errc::unavailable)
      log_fields(spdlog::level::err, "view read failed", {{"request_id", request_id}, {"error", page.error().message}});
    co_return problem(page.error(), instance, request_id, ver);
  }
  if (wants_csv(req)) {
    std::string body;
    std::vector<json::value> header(page->columns.begin(), page->columns.end());
    body += csv_line(header);
    std::vector<json::value> cells;
    for (auto& row : page->rows) {
      cells.clear();
      for (std::size_t i = 0; i < row.size(); ++i) cells.push_back(cell_json(view->columns[i].kind, row[i]));
      body += csv_line(cells);
    }
    auto res = json_response(http::status::ok, std::move(body), ver, "text/csv; charset=utf-8");
    res.set("Causeway-Position", applied);
    if (!page->next_cursor.empty()) res.set("Causeway-Next-Cursor", page->next_cursor);
    co_return res;
  }
  json::array rows;
  for (auto& row : page->rows) {
    json::object o;
    for (std::size_t i = 0; i < row.size(); ++i) o[page->columns[i]] = cell_json(view->columns[i].kind, row[i]);
    rows.push_back(std::move(o));
  }
  json::object body{{"view", name}, {"rows", std::move(rows)}, {"position", applied}};
  if (!page->next_cursor.empty()) body["next_cursor"] = page->next_cursor;
  auto res = json_response(http::status::ok, json::serialize(body), ver);
  res.set("Causeway-Position", applied);
  co_return res;
}

awaitable<Response> Api::analyst_sql(Request& req, const std::string& request_id) {
  const unsigned ver = req.version();
  const std::string instance = "/v1/query";
  auto who = authenticate(req);
  if (!who) co_return problem(who.error(), instance, request_id, ver);
  if (!who->admin && who->role != "analyst")
    co_return problem(403, "the SQL endpoint is for the analyst role", "", instance, request_id, ver);
  auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
  if (auto* err = std::get_if<BodyError>(&parsed))
    co_return problem(err->status, err->detail, "", instance, request_id, ver);
  auto& body = std::get<json::value>(parsed).as_object();
  std::string statement, reason;
  for (auto& [k, v] : body) {
    if (k == "sql") {
      if (!v.is_string() || v.as_string().empty())
        co_return problem(422, "sql must be a non-empty string", "/sql", instance, request_id, ver);
      statement = std::string(v.as_string());
    } else if (k == "reason") {
      if (!v.is_string() || v.as_string().empty() || v.as_string().size() > 500)
        co_return problem(422, "reason must be a string of 1 to 500 characters", "/reason", instance, request_id, ver);
      reason = std::string(v.as_string());
    } else if (k != "position") {
      co_return problem(422, fmt::format("unknown field {}", std::string_view(k)), "/" + std::string(k), instance,
                        request_id, ver);
    }
  }
  if (statement.empty()) co_return problem(422, "sql is required", "/sql", instance, request_id, ver);
  if (auto* p = body.if_contains("position")) {
    auto t = p->is_string() ? PositionToken::parse(p->as_string()) : Result<PositionToken>(Error::invalid(""));
    if (!t) co_return problem(422, "position must be a position token string", "/position", instance, request_id, ver);
    const std::string all_views;  // named: GCC 12 mishandles temporaries inside co_await expressions
    if (auto st = co_await wait_applied(all_views, *t); !st) {
      if (st.error().code == Errc::invalid)
        co_return problem(422, st.error().message, "/position", instance, request_id, ver);
      co_return problem(st.error(), instance, request_id, ver);
    }
  }
  auto path = reads_->current();
  if (!path) co_return problem(path.error(), instance, request_id, ver);
  const bool csv = wants_csv(req);
  const std::string applied = views_->applied().str();  // before the read, as in read_view
  std::string truncated_by;
  SqlLimits limits;
  limits.max_rows = cfg_.query_max_rows;
  limits.max_bytes = cfg_.query_max_bytes;
  limits.timeout = cfg_.query_timeout;
  SqlAccess access;
  if (!who->admin) {
    access.tenant = who->tenant;
    access.role = who->role;
  }
  const Actor actor = actor_of(*who);
  // Reading the audit log through SQL is recorded (with the statement's hash,
  // not its text, which may quote personal data) before any row is read.
  access.before_rows = [&](bool reads_audit) -> Status {
    if (!reads_audit) return ok_status();
    if (reason.empty())
      return Error::invalid("reason is required when the statement reads the audit log: the read is recorded",
                            "/reason");
    if (audit_read_unrecorded(actor, "sql")) return ok_status();
    json::object data{{"reason", reason}, {"via", "sql"}, {"statement_hash", blake2b_hex(statement)}};
    return audit::record_read(log_, actor, access.tenant.value_or(""), data, pipeline_.clock().now_us());
  };
  // Off the I/O threads: a query may run up to its time limit. The lambda
  // captures by reference only: GCC 12 destroys a temporary lambda with owning
  // captures twice when it is built inside a co_await expression.
  const std::string& db_path = *path;
  auto result = co_await run_on(pipeline_.cpu(), [&]() -> Result<std::string> {
    std::string out;
    std::vector<std::string> cols;
    auto r = run_analyst_sql(
        db_path, statement, access, limits,
        [&](const std::vector<std::string>& names) {
          cols = names;
          if (csv) out += csv_line(std::vector<json::value>(names.begin(), names.end()));
        },
        [&](const std::vector<json::value>& row) {
          if (csv) {
            out += csv_line(row);
            return;
          }
          json::object o;
          for (std::size_t i = 0; i < row.size(); ++i) o[cols[i]] = row[i];
          out += json::serialize(o);
          out += '\n';
        });
    if (!r) return std::move(r).error();
    truncated_by = r->truncated_by;
    return out;
  });
  if (!result) co_return problem(result.error(), instance, request_id, ver);
  auto res = json_response(http::status::ok, std::move(result).value(), ver,
                           csv ? "text/csv; charset=utf-8" : "application/x-ndjson");
  res.set("Causeway-Position", applied);
  // The body is rows only; a cut-off result says so in a header (both formats).
  if (!truncated_by.empty()) res.set("Causeway-Truncated", truncated_by);
  co_return res;
}

awaitable<Response> Api::projections_route(Request& req, const std::string& request_id, bool rebuild) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  if (!is_admin(req)) co_return problem(401, "an admin bearer token is required", "", instance, request_id, ver);
  if (rebuild) {
    auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
    if (auto* err = std::get_if<BodyError>(&parsed))
      co_return problem(err->status, err->detail, "", instance, request_id, ver);
    std::vector<std::string> names;
    for (auto& [k, v] : std::get<json::value>(parsed).as_object()) {
      if (k != "projections")
        co_return problem(422, fmt::format("unknown field {}", std::string_view(k)), "/" + std::string(k), instance,
                          request_id, ver);
      if (!v.is_array()) co_return problem(422, "projections must be an array of names", "/projections", instance,
                                           request_id, ver);
      for (std::size_t i = 0; i < v.as_array().size(); ++i) {
        auto& n = v.as_array()[i];
        if (!n.is_string())
          co_return problem(422, "a projection name must be a string", fmt::format("/projections/{}", i), instance,
                            request_id, ver);
        names.emplace_back(n.as_string());
      }
    }
    if (auto st = views_->request_rebuild(names); !st) co_return problem(st.error(), instance, request_id, ver);
    co_return json_response(http::status::accepted, R"({"status":"rebuilding"})", ver);
  }
  json::array out;
  for (const auto& s : views_->status()) {
    json::object o{{"name", s.name},
                   {"version", s.version},
                   {"state", to_string(s.state)},
                   {"checkpoint", s.checkpoint.str()},
                   {"lag_events", s.lag_events},
                   {"lag_ms", s.lag_ms}};
    if (!s.error.empty()) {
      o["error"] = s.error;
      o["error_position"] = s.error_position;
    }
    out.push_back(std::move(o));
  }
  json::object body{{"projections", std::move(out)}, {"rebuilding", views_->rebuilding()}};
  if (auto e = views_->last_error(); !e.empty()) body["error"] = e;
  co_return json_response(http::status::ok, json::serialize(body), ver);
}

}  // namespace causeway::api
