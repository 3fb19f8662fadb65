// Retention routes (admin token only), engine/aggregates/retention.h:
//   PUT    /v1/admin/retention-policies/{scope}/{category}  {max_age_days, reason}
//   DELETE /v1/admin/retention-policies/{scope}/{category}  {reason}
//   POST   /v1/admin/retention/sweeps                        run a sweep now
// The scope is "all" (the default policy) or an organization id.
#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "api/json_body.h"
#include "api/log.h"
#include "api/routes.h"
#include "engine/async.h"
#include "events/codec.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

namespace {

json::array strings(const std::vector<std::string>& v) { return json::array(v.begin(), v.end()); }

}  // namespace

awaitable<Response> Api::retention_route(Request& req, const std::string& request_id,
                                         const std::vector<std::string>& seg, std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  auto not_allowed = [&](const char* allow) {
    auto res = problem(405, fmt::format("use {}", allow), "", instance, request_id, ver);
    res.set(http::field::allow, allow);
    return res;
  };
  auto unauthorized = [&] { return problem(401, "an admin bearer token is required", "", instance, request_id, ver); };

  if (seg.size() == 4 && seg[2] == "retention" && seg[3] == "sweeps") {
    route_name = "admin.retention.sweeps";
    if (req.method() != http::verb::post) co_return not_allowed("POST");
    if (!is_admin(req)) co_return unauthorized();
    if (!retention_) co_return problem(503, "retention sweeps are not enabled", "", instance, request_id, ver);
    auto report = co_await run_on(pipeline_.cpu(), [this] { return retention_->sweep_now(); });
    if (!report) {
      log_fields(spdlog::level::err, "retention sweep failed",
                 {{"request_id", request_id}, {"error", report.error().message}});
      co_return problem(report.error(), instance, request_id, ver);
    }
    json::object body{{"ran_at", rfc3339_us(report->ran_at_us)},
                      {"buckets_seen", report->buckets_seen},
                      {"enforced", strings(report->enforced)},
                      {"held", strings(report->held)},
                      {"kept", report->kept},
                      {"events_scanned", report->events_scanned},
                      {"position", log_.head().str()}};
    auto res = json_response(http::status::ok, json::serialize(body), ver);
    res.set("Causeway-Position", log_.head().str());
    co_return res;
  }
  if (seg.size() != 5 || seg[2] != "retention-policies")
    co_return problem(404, "no such route", "", instance, request_id, ver);
  route_name = "admin.retention_policies";
  const bool set = req.method() == http::verb::put;
  if (!set && req.method() != http::verb::delete_) co_return not_allowed("PUT, DELETE");
  if (!is_admin(req)) co_return unauthorized();
  auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
  if (auto* err = std::get_if<BodyError>(&parsed))
    co_return problem(err->status, err->detail, "", instance, request_id, ver);
  auto& body = std::get<json::value>(parsed);
  if (auto* o = body.if_object()) {
    if (o->contains("category"))
      co_return problem(Error::invalid("the category is taken from the path, not the body", "/category"), instance,
                        request_id, ver);
    (*o)["category"] = seg[4];
  }
  const std::string name = set ? "retention.set_policy" : "retention.remove_policy";
  CommandContext ctx;
  ctx.actor = Actor{"admin", {}};
  ctx.request_id = request_id;
  ctx.target = seg[3];
  auto out = co_await pipeline_.execute(name, std::move(body), std::move(ctx));
  if (!out) {
    if (out.error().code == Errc::corruption || out.error().code == Errc::unavailable)
      log_fields(spdlog::level::err, "command failed",
                 {{"request_id", request_id}, {"command", name}, {"code", errc_name(out.error().code)}});
    co_return problem(out.error(), instance, request_id, ver);
  }
  Response res = json_response(static_cast<http::status>(out->status), std::move(out->body), ver);
  res.set("Causeway-Position", out->token.str());
  co_return res;
}

}  // namespace causeway::api
