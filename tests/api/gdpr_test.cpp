// GDPR over HTTP: legal holds, crash-safe erasure by crypto-shredding (the key
// is gone from every file of the data folder, the log still verifies) and the
// subject access export.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/node_fixture.h"
#include "support/verify_aggregates.h"
#include "support/files.h"
#include "engine/verify.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;

namespace {

constexpr const char* kEmail = "zebulon.quintessa@example.com";
constexpr const char* kName = "Zebulon Quintessa";

struct GdprFixture : NodeFixture {
  std::map<std::string, std::string> admin() { return {{"Authorization", "Bearer " + node->admin_token()}}; }

  std::string user() {
    auto r = http->post("/v1/users", std::string(R"({"email":")") + kEmail + R"(","display_name":")" + kName +
                                         R"(","password":"a long password"})");
    REQUIRE(r.status == 201);
    return std::string(r.json().at("user_id").as_string());
  }
  HttpResult erase(const std::string& user_id, const std::string& body = R"({"reason":"Art. 17 request 7"})") {
    return http->post("/v1/admin/subjects/" + user_id + "/erasure", body, admin());
  }
  HttpResult hold(const std::string& user_id, const std::string& body = R"({"reason":"litigation 2026-14"})") {
    return http->post("/v1/admin/subjects/" + user_id + "/holds", body, admin());
  }
  HttpResult release(const std::string& user_id) {
    return http->request(boost::beast::http::verb::delete_, "/v1/admin/subjects/" + user_id + "/holds",
                         R"({"reason":"case closed"})", admin());
  }
  HttpResult export_of(const std::string& user_id, const std::string& query = "?reason=DSAR%2012") {
    return http->get("/v1/admin/subjects/" + user_id + "/export" + query, admin());
  }
  std::optional<std::string> wrapped_key(const std::string& user_id) {
    auto k = node->embedded_log()->key_store()->get(user_id);
    REQUIRE(k.ok());
    return *k;
  }
  std::string users_row(const std::string& user_id) {
    auto r = http->get("/v1/views/users?user_id=" + user_id + "&position=" + head(), admin());
    REQUIRE(r.status == 200);
    auto body = r.json();
    auto& rows = body.at("rows").as_array();
    REQUIRE(rows.size() == 1);
    return json::serialize(rows[0]);
  }
  std::string stream_read(const std::string& stream) {
    auto r = http->get("/v1/admin/streams/" + stream + "/events", admin());
    REQUIRE(r.status == 200);
    return r.body;
  }
};

}  // namespace

TEST_CASE("gdpr: erasure destroys the key, the personal fields read [erased] and the log still verifies") {
  GdprFixture f;
  auto u = f.user();
  auto wrapped = f.wrapped_key(u);
  REQUIRE(wrapped);
  CHECK_FALSE(files_containing(f.dir.str(), *wrapped).empty());  // the scan below would see it (synced WAL)
  CHECK(f.stream_read(u).find(kEmail) != std::string::npos);
  CHECK(f.users_row(u).find(kName) != std::string::npos);

  auto r = f.erase(u);
  REQUIRE(r.status == 200);
  CHECK(r.json().at("forgotten") == true);
  CHECK(r.header("causeway-position") == std::string(r.json().at("position").as_string()));
  CHECK_FALSE(f.node->vault().find(u)->has_value());

  auto events = f.stream_read(u);
  CHECK(events.find(kEmail) == std::string::npos);
  CHECK(events.find(kName) == std::string::npos);
  CHECK(events.find("[erased]") != std::string::npos);
  auto row = f.users_row(u);
  CHECK(row.find(R"("email":"[erased]")") != std::string::npos);
  CHECK(row.find(R"("display_name":"[erased]")") != std::string::npos);
  auto subject = f.stream_read("subject-" + u.substr(5));
  CHECK(subject.find("subject.erasure_requested") != std::string::npos);
  CHECK(subject.find("subject.forgotten") != std::string::npos);

  auto& log = *f.node->embedded_log();
  auto report = verify_chain(log, 0, log.head().offsets[0], log.chain_head(), nullptr);
  CAPTURE(report.problem.value_or(""));
  CHECK_FALSE(report.problem);
  auto folded = verified_aggregates(log);
  CHECK(folded.aggregates == 2);  // the user and the subject

  f.node->stop();  // everything flushed and closed
  for (const std::string& needle : {std::string(kEmail), std::string(kName), *wrapped}) {
    auto hits = files_containing(f.dir.str(), needle);
    CAPTURE(needle.size());
    CHECK(hits.empty());
    for (auto& h : hits) MESSAGE("found in " << h);
  }
}

TEST_CASE("gdpr: a subject under a legal hold cannot be erased, and can once it is released") {
  GdprFixture f;
  auto u = f.user();
  auto held = f.hold(u);
  REQUIRE(held.status == 200);
  CHECK(held.json().at("hold_active") == true);

  const auto before = f.head();
  auto refused = problem_of(f.erase(u), 409);
  CHECK(std::string(refused.at("detail").as_string()).find("litigation 2026-14") != std::string::npos);
  CHECK(f.head() == before);  // nothing written
  CHECK(f.wrapped_key(u));    // key intact
  CHECK(f.stream_read(u).find(kEmail) != std::string::npos);

  auto released = f.release(u);
  REQUIRE(released.status == 200);
  CHECK(released.json().at("hold_active") == false);
  CHECK(f.erase(u).status == 200);
  CHECK(f.stream_read(u).find(kEmail) == std::string::npos);
  // Releasing again changes nothing; a hold after erasure is refused.
  const auto after = f.head();
  CHECK(f.release(u).status == 200);
  CHECK(f.head() == after);
  problem_of(f.hold(u), 409);
}

TEST_CASE("gdpr: erasing twice is idempotent, and a retry completes an erasure cut short") {
  GdprFixture f;
  auto u = f.user();
  auto first = f.erase(u);
  REQUIRE(first.status == 200);
  const auto after = f.head();
  auto second = f.erase(u);
  REQUIRE(second.status == 200);
  CHECK(second.json().at("forgotten") == true);
  CHECK(second.json().at("position") == first.json().at("position"));  // the tombstone's
  CHECK(f.head() == after);  // no new events

}

TEST_CASE("gdpr: a retry completes an erasure cut short after the request was recorded") {
  GdprFixture f;
  auto u = f.user();
  // A crash after step (a): subject.erasure_requested is durable, the key is not destroyed yet.
  boost::asio::thread_pool io(1);
  CommandContext ctx;
  ctx.actor = Actor{"admin", {}};
  ctx.target = u;
  auto* p = &f.node->pipeline();
  auto fut = boost::asio::co_spawn(
      io,
      [p, ctx]() -> boost::asio::awaitable<std::optional<Result<CommandOutcome>>> {
        co_return co_await p->execute("subject.erase", json::parse(R"({"reason":"cut short"})"), ctx);
      },
      boost::asio::use_future);
  auto step_a = std::move(*fut.get());
  io.join();
  REQUIRE(step_a.ok());
  CHECK(f.wrapped_key(u));
  problem_of(f.hold(u), 409);  // no hold while an erasure is in progress

  auto retry = f.erase(u);
  REQUIRE(retry.status == 200);
  CHECK(retry.json().at("forgotten") == true);
  CHECK_FALSE(f.node->vault().find(u)->has_value());
  auto subject = f.stream_read("subject-" + u.substr(5));
  CHECK(subject.find("subject.forgotten") != std::string::npos);
}

TEST_CASE("gdpr: the access export holds the subject's events opened, then [erased], never the password hash") {
  GdprFixture f;
  auto u = f.user();
  auto org = f.create_org(u, "acme");
  REQUIRE(org.status == 201);
  f.signup("someone.else@example.com");  // not in the bundle
  f.hold(u);

  auto r = f.export_of(u);
  REQUIRE(r.status == 200);
  auto b = r.json().as_object();
  CHECK(b.at("subject").as_string() == u);
  CHECK(b.contains("generated_at"));
  for (auto* k : {"purposes", "categories", "recipients", "retention", "source"})
    CHECK(b.at("metadata").as_object().contains(k));
  std::vector<std::string> types;
  for (auto& e : b.at("events").as_array()) types.emplace_back(e.at("type").as_string());
  CHECK(types == std::vector<std::string>{"user.signed_up", "organization.created", "subject.hold_placed",
                                          "subject.exported"});
  auto& signup = b.at("events").as_array()[0].at("data").as_object();
  CHECK(signup.at("email").as_string() == kEmail);
  CHECK(signup.at("display_name").as_string() == kName);
  CHECK(r.body.find("argon2id") == std::string::npos);
  auto& views = b.at("views").as_object();
  REQUIRE(views.at("users").as_array().size() == 1);
  CHECK(views.at("users").as_array()[0].at("email").as_string() == kEmail);
  CHECK(views.at("memberships").as_array().size() == 1);
  CHECK(views.at("audit").as_array().size() >= 3);
  CHECK(std::string(b.at("csv").at("users").as_string()).find(kEmail) != std::string::npos);
  CHECK(std::string(b.at("csv").at("memberships").as_string()).find("owner") != std::string::npos);

  f.release(u);
  REQUIRE(f.erase(u).status == 200);
  auto after = f.export_of(u, "?reason=after%20erasure");
  REQUIRE(after.status == 200);
  CHECK(after.body.find(kEmail) == std::string::npos);
  CHECK(after.body.find(kName) == std::string::npos);
  CHECK(after.body.find("[erased]") != std::string::npos);
  auto subject = f.stream_read("subject-" + u.substr(5));
  CHECK(subject.find("DSAR 12") != std::string::npos);  // both exports are recorded, with their reason
  CHECK(subject.find("after erasure") != std::string::npos);
}

TEST_CASE("gdpr: unknown users are 404, bad bodies 422, missing credentials 401") {
  GdprFixture f;
  auto u = f.user();
  const std::string nobody = "user-00000000000000000000000000000000";
  problem_of(f.erase(nobody), 404);
  problem_of(f.hold(nobody), 404);
  problem_of(f.export_of(nobody), 404);
  problem_of(f.erase("org-123"), 404);

  auto unknown = problem_of(f.erase(u, R"({"reason":"x","color":"red"})"), 422);
  CHECK(pointer_of(unknown) == "/color");
  problem_of(f.erase(u, "{}"), 422);
  problem_of(f.hold(u, "{}"), 422);
  problem_of(f.export_of(u, ""), 400);  // reason is required
  CHECK(f.wrapped_key(u));

  for (auto* path : {"/erasure", "/holds"})
    problem_of(f.http->post("/v1/admin/subjects/" + u + path, R"({"reason":"x"})"), 401);
  problem_of(f.http->get("/v1/admin/subjects/" + u + "/export?reason=x"), 401);
  CHECK(f.http->get("/v1/admin/subjects/" + u + "/erasure", f.admin()).status == 405);
  CHECK(f.wrapped_key(u));
}
