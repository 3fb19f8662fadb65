// GDPR routes (admin token only): legal holds, crash-safe erasure and the
// subject access export. See docs/architecture.md, "Erasure and subject access".
//
// Erasure is three steps, each durable before the next, each idempotent, so a
// retry of the same request after a crash completes whatever is missing:
//   (a) subject.erase            -> subject.erasure_requested (409 under a hold),
//       then the subject's live sessions are revoked (reason "erasure")
//   (b) KeyVault::forget + purge -> the data key is gone, on disk too
//   (c) subject.complete_erasure -> subject.forgotten (the tombstone)
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "api/gdpr.h"
#include "api/json_body.h"
#include "api/log.h"
#include "api/routes.h"
#include "engine/async.h"
#include "engine/audit/export.h"
#include "engine/aggregates/subject.h"
#include "engine/commands/traits.h"
#include "events/codec.h"
#include "projections/query.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

awaitable<Response> Api::gdpr_route(Request& req, const std::string& request_id, const std::vector<std::string>& seg,
                                    const boost::urls::url_view& url, std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(url.encoded_path());
  const std::string& user_id = seg[3];
  const std::string& what = seg[4];
  auto not_allowed = [&](const char* allow) {
    auto res = problem(405, fmt::format("use {}", allow), "", instance, request_id, ver);
    res.set(http::field::allow, allow);
    return res;
  };
  auto unauthorized = [&] { return problem(401, "an admin bearer token is required", "", instance, request_id, ver); };
  if (what == "erasure") {
    route_name = "admin.subjects.erasure";
    if (req.method() != http::verb::post) co_return not_allowed("POST");
    if (!is_admin(req)) co_return unauthorized();
    co_return co_await subject_erasure(req, request_id, user_id);
  }
  if (what == "holds") {
    route_name = "admin.subjects.holds";
    const bool place = req.method() == http::verb::post;
    if (!place && req.method() != http::verb::delete_) co_return not_allowed("POST, DELETE");
    if (!is_admin(req)) co_return unauthorized();
    json::value body = json::object();
    if (place || !req.body().empty()) {
      auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
      if (auto* err = std::get_if<BodyError>(&parsed))
        co_return problem(err->status, err->detail, "", instance, request_id, ver);
      body = std::move(std::get<json::value>(parsed));
    }
    const std::string name = place ? "subject.place_hold" : "subject.release_hold";
    auto out = co_await subject_command(name, std::move(body), user_id, request_id);
    if (!out) co_return problem(out.error(), instance, request_id, ver);
    Response res = json_response(static_cast<http::status>(out->status), std::move(out->body), ver);
    res.set("Causeway-Position", out->token.str());
    co_return res;
  }
  if (what == "export") {
    route_name = "admin.subjects.export";
    if (req.method() != http::verb::get) co_return not_allowed("GET");
    if (!is_admin(req)) co_return unauthorized();
    co_return co_await subject_export(req, request_id, user_id, url);
  }
  co_return problem(404, "no such route", "", instance, request_id, ver);
}

// /v1/admin/dsr[/{id}/extension|closure]: data subject requests and their deadline.
awaitable<Response> Api::dsr_route(Request& req, const std::string& request_id, const std::vector<std::string>& seg,
                                   const boost::urls::url_view& url, std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(url.encoded_path());
  std::string name, target;
  if (seg.size() == 3) {
    route_name = "admin.dsr.open";
    name = "dsr.open";
  } else if (seg.size() == 5 && seg[4] == "extension") {
    route_name = "admin.dsr.extension";
    name = "dsr.extend";
    target = seg[3];
  } else if (seg.size() == 5 && seg[4] == "closure") {
    route_name = "admin.dsr.closure";
    name = "dsr.close";
    target = seg[3];
  } else {
    co_return problem(404, "no such route", "", instance, request_id, ver);
  }
  if (req.method() != http::verb::post) {
    auto res = problem(405, "use POST", "", instance, request_id, ver);
    res.set(http::field::allow, "POST");
    co_return res;
  }
  if (!is_admin(req)) co_return problem(401, "an admin bearer token is required", "", instance, request_id, ver);
  auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
  if (auto* err = std::get_if<BodyError>(&parsed))
    co_return problem(err->status, err->detail, "", instance, request_id, ver);
  auto out = co_await subject_command(name, std::move(std::get<json::value>(parsed)), target, request_id);
  if (!out) co_return problem(out.error(), instance, request_id, ver);
  Response res = json_response(static_cast<http::status>(out->status), std::move(out->body), ver);
  res.set("Causeway-Position", out->token.str());
  co_return res;
}

awaitable<Result<CommandOutcome>> Api::subject_command(const std::string& name, json::value body,
                                                       const std::string& user_id, const std::string& request_id) {
  CommandContext ctx;
  ctx.actor = Actor{"admin", {}};
  ctx.request_id = request_id;
  ctx.target = user_id;
  auto out = co_await pipeline_.execute(name, std::move(body), std::move(ctx));
  if (!out && (out.error().code == Errc::corruption || out.error().code == Errc::unavailable))
    log_fields(spdlog::level::err, "command failed",
               {{"request_id", request_id}, {"command", name}, {"code", errc_name(out.error().code)},
                {"error", out.error().message}});
  co_return out;
}

Status Api::check_request(const std::string& dsr_id, const std::string& user_id, const char* action) {
  if (dsr_id.rfind("dsr-", 0) != 0) return Error::invalid("no such data subject request", "/request_id");
  auto loaded = pipeline_.aggregates().load<DsrAggregate>(dsr_id);
  if (!loaded) return std::move(loaded).error();
  return dsr::check_fulfils(loaded->state, user_id, action);
}

awaitable<Result<CommandOutcome>> Api::close_request(const std::string& dsr_id, const char* why,
                                                     const std::string& request_id) {
  json::value body = json::object{{"outcome", "completed"}, {"reason", why}};
  const std::string close = "dsr.close";
  co_return co_await subject_command(close, std::move(body), dsr_id, request_id);
}

awaitable<Response> Api::subject_erasure(Request& req, const std::string& request_id, const std::string& user_id) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
  if (auto* err = std::get_if<BodyError>(&parsed))
    co_return problem(err->status, err->detail, "", instance, request_id, ver);
  // An optional data subject request this erasure fulfils: checked first,
  // closed once the erasure is complete.
  std::string dsr_id;
  if (auto* o = std::get<json::value>(parsed).if_object(); o && o->contains("request_id")) {
    auto& v = o->at("request_id");
    if (!v.is_string()) co_return problem(Error::invalid("request_id must be a string", "/request_id"), instance,
                                          request_id, ver);
    dsr_id = std::string(v.as_string());
    o->erase("request_id");
    if (auto st = check_request(dsr_id, user_id, "erasure"); !st) co_return problem(st.error(), instance, request_id, ver);
  }
  // (a) the durable record of the request; refused under a legal hold.
  const std::string erase = "subject.erase";
  auto requested = co_await subject_command(erase, std::move(std::get<json::value>(parsed)), user_id, request_id);
  if (!requested) co_return problem(requested.error(), instance, request_id, ver);
  // (a2) the subject's live sessions end: an erased user cannot stay logged in.
  auto sessions = co_await run_on(pipeline_.cpu(), [&]() { return sessions_of(user_id); });
  if (!sessions) co_return problem(sessions.error(), instance, request_id, ver);
  for (const auto& s : *sessions) {
    if (s.at("revoked").as_bool()) continue;
    json::value why = json::object{{"reason", "erasure"}};
    const std::string revoke = "session.revoke";
    const std::string session_id(s.at("session_id").as_string());
    auto out = co_await subject_command(revoke, std::move(why), session_id, request_id);
    if (!out) co_return problem(out.error(), instance, request_id, ver);
  }
  // (b) destroy the key, then every copy RocksDB may still hold of it. Off the
  // I/O threads: a synced write, a flush and a compaction.
  auto destroyed = co_await run_on(pipeline_.cpu(), [&]() -> Status {
    if (auto st = vault_.forget(user_id); !st) return st;
    if (erase_mail_)
      if (auto st = erase_mail_(user_id); !st) return st;
    return purge_keys_ ? purge_keys_() : ok_status();
  });
  if (!destroyed) {
    log_fields(spdlog::level::err, "erasure: destroying the key failed; retry the request",
               {{"request_id", request_id}, {"error", destroyed.error().message}});
    co_return problem(destroyed.error(), instance, request_id, ver);
  }
  // (c) the tombstone.
  const std::string complete = "subject.complete_erasure";
  json::value empty = json::object();
  auto done = co_await subject_command(complete, std::move(empty), user_id, request_id);
  if (!done) co_return problem(done.error(), instance, request_id, ver);
  // The tombstone's position, also when a retry found it already written.
  std::string position = done->token.str();
  auto stream = log_.read_stream(subject::stream_of(user_id), 1, 10'000);
  if (!stream) co_return problem(stream.error(), instance, request_id, ver);
  for (const auto& e : *stream)
    if (e.type == "subject.forgotten") position = PositionToken{{e.position}}.str();
  json::object body{{"user_id", user_id}, {"forgotten", true}, {"position", position}};
  if (!dsr_id.empty()) {
    auto closed = co_await close_request(dsr_id, "erasure completed", request_id);
    if (!closed) co_return problem(closed.error(), instance, request_id, ver);
    body["request_id"] = dsr_id;
    body["request_status"] = "closed";
    position = closed->token.str();
    body["position"] = position;
  }
  Response res = json_response(http::status::ok, json::serialize(body), ver);
  res.set("Causeway-Position", position);
  co_return res;
}

namespace {

// Every row of `view` where `column` = `value`, as JSON objects and as CSV.
Result<std::pair<json::array, std::string>> view_rows(sql::Db& db, const char* view, const char* column,
                                                      const std::string& value, KeyVault& vault) {
  const ViewDef* def = find_view(view);
  if (!def) return Error::corruption(fmt::format("no view {}", view));
  ListRequest lr;
  lr.view = def;
  lr.filters.push_back({column, "=", value});
  lr.limit = 1000;
  json::array rows;
  std::string csv;
  for (bool first = true;; first = false) {
    auto page = list_view(db, lr, &vault);
    if (!page) return std::move(page).error();
    if (first) csv += csv_line(std::vector<json::value>(page->columns.begin(), page->columns.end()));
    for (auto& row : page->rows) {
      json::object o;
      std::vector<json::value> cells;
      for (std::size_t i = 0; i < row.size(); ++i) {
        cells.push_back(cell_json(def->columns[i].kind, row[i]));
        o[page->columns[i]] = cells.back();
      }
      csv += csv_line(cells);
      rows.push_back(std::move(o));
    }
    if (page->next_cursor.empty()) break;
    lr.cursor = page->next_cursor;
  }
  return std::make_pair(std::move(rows), std::move(csv));
}

}  // namespace

awaitable<Response> Api::subject_export(Request& req, const std::string& request_id, const std::string& user_id,
                                        const boost::urls::url_view& url) {
  const unsigned ver = req.version();
  const std::string instance(url.encoded_path());
  std::string reason, dsr_id;
  for (auto p : url.params()) {
    std::string k = p.key, v = p.value;
    if (k == "reason") reason = v;
    else if (k == "request_id") dsr_id = v;
    else co_return problem(400, fmt::format("unknown query parameter {}", k), "", instance, request_id, ver);
  }
  if (!dsr_id.empty())
    if (auto st = check_request(dsr_id, user_id, "export"); !st) co_return problem(st.error(), instance, request_id, ver);
  if (reason.empty() || reason.size() > 500)
    co_return problem(400, "reason is required (1 to 500 characters): a subject access export is recorded", "",
                      instance, request_id, ver);
  auto metadata = load_gdpr_metadata(cfg_.gdpr_metadata_file);
  if (!metadata) co_return problem(metadata.error(), instance, request_id, ver);

  // Recorded first (404 for an unknown user), so the bundle holds its own record.
  const std::string name = "subject.export";
  json::object record_body;
  record_body["reason"] = reason;
  auto recorded = co_await subject_command(name, std::move(record_body), user_id, request_id);
  if (!recorded) co_return problem(recorded.error(), instance, request_id, ver);
  if (views_) {
    const std::string all_views;  // named: GCC 12 mishandles temporaries inside co_await expressions
    if (auto st = co_await wait_applied(all_views, recorded->token); !st)
      co_return problem(st.error(), instance, request_id, ver);
  }

  // Off the I/O threads: point reads by the subject index, then the views.
  auto bundle = co_await run_on(pipeline_.cpu(), [&]() -> Result<json::object> {
    json::object out;
    out["subject"] = user_id;
    out["generated_at"] = rfc3339_us(pipeline_.clock().now_us());
    out["metadata"] = std::move(metadata).value();
    auto events = audit::subject_events(log_, vault_, pipeline_.schemas(), user_id);
    if (!events) return std::move(events).error();
    out["events"] = std::move(events).value();
    json::object views;
    json::object csv;
    if (reads_) {
      auto lease = reads_->acquire();
      if (!lease) return std::move(lease).error();
      struct Src {
        const char* view;
        const char* column;
      };
      for (auto [view, column] : {Src{"users", "user_id"}, Src{"memberships", "user_id"}, Src{"audit", "subject"}}) {
        auto rows = view_rows(**lease, view, column, user_id, vault_);
        if (!rows) return std::move(rows).error();
        views[view] = std::move(rows->first);
        csv[view] = std::move(rows->second);
      }
    }
    out["views"] = std::move(views);
    out["csv"] = std::move(csv);
    return out;
  });
  if (!bundle) co_return problem(bundle.error(), instance, request_id, ver);
  std::string position = recorded->token.str();
  if (!dsr_id.empty()) {
    auto closed = co_await close_request(dsr_id, "subject access export delivered", request_id);
    if (!closed) co_return problem(closed.error(), instance, request_id, ver);
    (*bundle)["request_id"] = dsr_id;
    position = closed->token.str();
  }
  Response res = json_response(http::status::ok, json::serialize(*bundle), ver);
  res.set("Causeway-Position", position);
  co_return res;
}

}  // namespace causeway::api
