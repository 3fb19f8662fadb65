// The signed-in user's in-app notifications (engine/aggregates/inbox.h, the
// "notifications" view):
//
//   GET  /v1/me/notifications[?unread=true&limit=N&position=P]  newest first, messages opened
//   POST /v1/me/notifications/{id}/read                         notification.mark_read
//   POST /v1/me/notifications/read-all                          notification.mark_all_read (up to
//                                                               the newest the user can see)
//
// A user sees the notifications sent to them by workflows of the
// organizations they are a member of now: leaving an organization hides its
// notifications. The view is eventually consistent; `position` (or the
// Causeway-Position header) waits for a position first.
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <fmt/format.h>

#include "api/routes.h"
#include "engine/async.h"
#include "events/codec.h"
#include "events/position.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

namespace {

// Only the notifications of organizations the user is a member of.
constexpr const char* kVisible =
    "FROM notifications n JOIN memberships m ON m.org_id = n.org_id AND m.user_id = n.user_id WHERE n.user_id = ?1";

}  // namespace

awaitable<Response> Api::inbox_route(Request& req, const std::string& request_id, const std::vector<std::string>& seg,
                                     std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  const auto method = req.method();
  const bool list = seg.size() == 3;
  const bool read_all = seg.size() == 4 && seg[3] == "read-all";
  const bool read_one = seg.size() == 5 && seg[4] == "read";
  route_name = list ? "me.notifications" : read_all ? "me.notifications.read_all" : "me.notifications.read";
  if (!list && !read_all && !read_one) co_return problem(404, "no such route", "", instance, request_id, ver);
  if (list && method != http::verb::get) co_return method_not_allowed("GET", instance, request_id, ver);
  if (!list && method != http::verb::post) co_return method_not_allowed("POST", instance, request_id, ver);
  auto who = authenticate_session(req);
  if (!who) co_return problem(who.error(), instance, request_id, ver);

  bool unread_only = false;
  std::int64_t limit = 50;
  auto url = boost::urls::parse_origin_form(req.target());
  for (auto p : url->params()) {
    const std::string key = p.key, value = p.value;
    if (list && key == "unread" && (value == "true" || value == "false")) {
      unread_only = value == "true";
    } else if (list && key == "limit") {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc{} || end != value.data() + value.size() || limit < 1 || limit > 200)
        co_return problem(400, "limit must be between 1 and 200", "", instance, request_id, ver);
    } else if (key != "position") {
      co_return problem(400, fmt::format("unknown or malformed query parameter {}", key), "", instance, request_id,
                        ver);
    }
  }
  auto wanted = requested_position(req, *url);
  if (!wanted) co_return problem(400, wanted.error().message, "", instance, request_id, ver);
  if (*wanted) {
    const std::string view = "notifications";
    if (auto st = co_await wait_applied(view, **wanted); !st) co_return problem(st.error(), instance, request_id, ver);
  }
  // The marking routes take no body: the path says everything.
  if (!list && !req.body().empty() && req.body() != "{}")
    co_return problem(Error::invalid("this route takes no body", ""), instance, request_id, ver);

  if (list) {
    auto out = co_await run_on(pipeline_.cpu(), [&]() -> Result<json::object> {
      auto lease = reads_->acquire();
      if (!lease) return std::move(lease).error();
      auto stmt = (*lease)->prepare(fmt::format(
          "SELECT n.notification_id, n.org_id, n.run_id, n.payload, n.created_at, n.read_at {}{} "
          "ORDER BY n.created_at DESC, n.partition DESC, n.position DESC LIMIT ?2",
          kVisible, unread_only ? " AND n.read_at IS NULL" : ""));
      if (!stmt) return std::move(stmt).error();
      stmt->bind_all(who->user_id, limit);
      json::array items;
      for (;;) {
        auto row = stmt->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        boost::system::error_code ec;
        json::value payload = json::parse(stmt->text(3), ec);
        if (ec) return Error::corruption("a notification's payload is not JSON");
        if (auto st = vault_.open_all(payload); !st) return std::move(st).error();
        json::value message = "[erased]";
        if (auto* o = payload.if_object(); o && o->contains("message")) message = o->at("message");
        json::object item{{"notification_id", stmt->text(0)}, {"org_id", stmt->text(1)}, {"run_id", stmt->text(2)},
                          {"message", std::move(message)}, {"created_at", rfc3339_us(stmt->i64(4))},
                          {"read", !stmt->is_null(5)}};
        if (!stmt->is_null(5)) item["read_at"] = rfc3339_us(stmt->i64(5));
        items.push_back(std::move(item));
      }
      auto count = (*lease)->prepare(fmt::format("SELECT count(*) {} AND n.read_at IS NULL", kVisible));
      if (!count) return std::move(count).error();
      count->bind_all(who->user_id);
      auto row = count->step();
      if (!row) return std::move(row).error();
      return json::object{{"user_id", who->user_id}, {"unread", count->i64(0)}, {"notifications", std::move(items)}};
    });
    if (!out) co_return problem(out.error(), instance, request_id, ver);
    auto res = json_response(http::status::ok, json::serialize(*out), ver);
    res.set("Causeway-Position", views_->applied().str());
    co_return res;
  }

  // The notification (one): its partition and position; or, per partition, the newest the user can see (all).
  const std::uint32_t partitions = pipeline_.log().partitions();
  auto found = co_await run_on(pipeline_.cpu(), [&]() -> Result<std::optional<json::object>> {
    auto lease = reads_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare(
        read_one ? fmt::format("SELECT n.partition, n.position {} AND n.notification_id = ?2", kVisible)
                 : fmt::format("SELECT n.partition, max(n.position) {} GROUP BY n.partition", kVisible));
    if (!stmt) return std::move(stmt).error();
    if (read_one) stmt->bind_all(who->user_id, seg[3]);
    else stmt->bind_all(who->user_id);
    PositionToken through{std::vector<std::uint64_t>(partitions, 0)};
    for (;;) {
      auto row = stmt->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      if (read_one)
        return std::optional<json::object>(
            json::object{{"notification_id", seg[3]}, {"partition", stmt->i64(0)}, {"position", stmt->i64(1)}});
      const auto p = static_cast<std::size_t>(stmt->i64(0));
      if (p < through.offsets.size()) through.offsets[p] = static_cast<std::uint64_t>(stmt->i64(1));
    }
    if (read_one) return std::optional<json::object>();
    return std::optional<json::object>(json::object{{"through", through.str()}});
  });
  if (!found) co_return problem(found.error(), instance, request_id, ver);
  if (!*found) co_return problem(404, "no such notification", "", instance, request_id, ver);
  json::object body = std::move(**found);
  req.set(http::field::content_type, "application/json");
  req.body() = json::serialize(body);
  Principal as{false, {}, "", {}, who->user_id, who->impersonator};
  const std::string name = read_one ? "notification.mark_read" : "notification.mark_all_read";
  co_return co_await command(req, request_id, name, who->user_id, &as);
}

}  // namespace causeway::api
