// Data subject requests (GDPR Art. 15/17/20) over HTTP: opened with a one-month
// (30-day) deadline, extendable once, closed once, tracked in the operator-only
// view data_subject_requests.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "api/node_fixture.h"
#include "support/verify_aggregates.h"
#include "engine/verify.h"
#include "events/codec.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;

namespace {

constexpr std::int64_t kDayUs = 86'400'000'000;

struct DsrFixture : NodeFixture {
  std::map<std::string, std::string> admin() { return {{"Authorization", "Bearer " + node->admin_token()}}; }

  HttpResult open(const std::string& body) { return http->post("/v1/admin/dsr", body, admin()); }
  HttpResult extend(const std::string& id, const std::string& body) {
    return http->post("/v1/admin/dsr/" + id + "/extension", body, admin());
  }
  HttpResult close(const std::string& id, const std::string& body = R"({"outcome":"completed"})") {
    return http->post("/v1/admin/dsr/" + id + "/closure", body, admin());
  }
  // The view's rows, after `position` is applied.
  json::array rows(const std::string& position, const std::string& query = {}) {
    auto r = http->get("/v1/views/data_subject_requests?position=" + position + (query.empty() ? "" : "&" + query),
                       admin());
    REQUIRE(r.status == 200);
    return r.json().at("rows").as_array();
  }
};

std::int64_t time_of(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  auto t = parse_rfc3339_us(v.as_string());
  REQUIRE(t);
  return *t;
}

}  // namespace

TEST_CASE("dsr: open, extend once, close once; the view tracks the deadline") {
  DsrFixture f;
  auto user = f.signup("dsr-subject@example.com");

  auto r = f.open(R"({"subject":")" + user + R"(","kind":"access","note":"by e-mail"})");
  REQUIRE(r.status == 201);
  auto opened = r.json().as_object();
  const std::string id = str(opened.at("request_id"));
  CHECK(id.rfind("dsr-", 0) == 0);
  CHECK(id.size() == 4 + 32);
  CHECK(r.header("causeway-position") == str(opened.at("position")));

  auto rows = f.rows(str(opened.at("position")));
  REQUIRE(rows.size() == 1);
  auto row = rows[0].as_object();
  CHECK(str(row.at("request_id")) == id);
  CHECK(str(row.at("subject")) == user);
  CHECK(str(row.at("kind")) == "access");
  CHECK(str(row.at("status")) == "open");
  CHECK(row.at("extended").as_int64() == 0);
  const auto opened_at = time_of(row.at("opened_at"));
  const auto due_at = time_of(row.at("due_at"));
  CHECK(due_at - opened_at == 30 * kDayUs);
  CHECK(time_of(opened.at("due_at")) == due_at);
  // No personal data (the note) in the log.
  auto events = f.http->get("/v1/admin/streams/" + id + "/events", f.admin());
  REQUIRE(events.status == 200);
  CHECK(events.body.find("by e-mail") == std::string::npos);

  // Overdue = open and due before now: not yet.
  const std::string now = std::to_string(opened_at + kDayUs);
  CHECK(f.rows(str(opened.at("position")), "status=open&due_at.lt=" + now).empty());
  CHECK(f.rows(str(opened.at("position")), "status=open&due_at.lt=" + std::to_string(due_at + 1)).size() == 1);

  r = f.extend(id, R"({"days":45,"reason":"complex request"})");
  REQUIRE(r.status == 200);
  rows = f.rows(str(r.json().at("position")));
  REQUIRE(rows.size() == 1);
  CHECK(time_of(rows[0].at("due_at")) == due_at + 45 * kDayUs);
  CHECK(rows[0].at("extended").as_int64() == 1);
  problem_of(f.extend(id, R"({"days":1,"reason":"again"})"), 409);

  r = f.close(id);
  REQUIRE(r.status == 200);
  const std::string closed_at = str(r.json().at("position"));
  rows = f.rows(closed_at, "status=closed");
  REQUIRE(rows.size() == 1);
  CHECK(str(rows[0].at("outcome")) == "completed");
  CHECK_FALSE(rows[0].at("closed_at").is_null());
  CHECK(f.rows(closed_at, "status=open").empty());

  // Closing twice writes nothing; a closed request cannot be extended.
  const std::string head = f.head();
  r = f.close(id, R"({"outcome":"refused","reason":"changed mind"})");
  CHECK(r.status == 200);
  CHECK(f.head() == head);
  problem_of(f.extend(id, R"({"days":5,"reason":"late"})"), 409);
  CHECK(str(f.rows(closed_at)[0].at("outcome")) == "completed");

  // `log verify` folds the dsr- stream like any other aggregate.
  auto& log = *f.node->embedded_log();
  auto folded = verified_aggregates(log);
  CHECK(folded.aggregates == 2);  // the user and the request

  // Sortable by due_at and opened_at.
  CHECK(f.http->get("/v1/views/data_subject_requests?sort=-due_at", f.admin()).status == 200);
  CHECK(f.http->get("/v1/views/data_subject_requests?sort=opened_at", f.admin()).status == 200);
}

TEST_CASE("dsr: bad input, unknown requests, no token and tenant keys are refused") {
  DsrFixture f;
  auto user = f.signup("dsr-bad@example.com");
  auto r = f.open(R"({"subject":")" + user + R"(","kind":"erasure"})");
  REQUIRE(r.status == 201);
  const std::string id = str(r.json().at("request_id"));

  auto p = problem_of(f.open(R"({"subject":")" + user + R"(","kind":"access","colour":"red"})"), 422);
  CHECK(pointer_of(p) == "/colour");
  p = problem_of(f.open(R"({"subject":")" + user + R"(","kind":"deletion"})"), 422);
  CHECK(pointer_of(p) == "/kind");
  p = problem_of(f.open(R"({"subject":"alice@example.com","kind":"access"})"), 422);
  CHECK(pointer_of(p) == "/subject");
  problem_of(f.open(R"({"subject":"user-00000000000000000000000000000000","kind":"access"})"), 404);
  p = problem_of(f.extend(id, R"({"days":0,"reason":"x"})"), 422);
  CHECK(pointer_of(p) == "/days");
  p = problem_of(f.extend(id, R"({"days":61,"reason":"x"})"), 422);
  CHECK(pointer_of(p) == "/days");
  p = problem_of(f.close(id, R"({"outcome":"maybe"})"), 422);
  CHECK(pointer_of(p) == "/outcome");

  problem_of(f.extend("dsr-00000000000000000000000000000000", R"({"days":5,"reason":"x"})"), 404);
  problem_of(f.close("dsr-00000000000000000000000000000000"), 404);
  problem_of(f.close("user-00000000000000000000000000000000"), 404);

  problem_of(f.http->post("/v1/admin/dsr", R"({"subject":")" + user + R"(","kind":"access"})"), 401);
  problem_of(f.http->post("/v1/admin/dsr/" + id + "/extension", R"({"days":5,"reason":"x"})"), 401);
  problem_of(f.http->post("/v1/admin/dsr/" + id + "/closure", R"({"outcome":"completed"})"), 401);
  problem_of(f.http->get("/v1/admin/dsr", f.admin()), 405);

  // The view is operator only: 403 for a tenant API key.
  auto org = f.create_org(user, "dsr-org");
  REQUIRE(org.status == 201);
  auto key = f.http->post("/v1/admin/organizations/" + str(org.json().at("org_id")) + "/api-keys",
                          R"({"name":"k","role":"owner"})", f.admin());
  REQUIRE(key.status == 201);
  const std::string token = str(key.json().at("token"));
  problem_of(f.http->get("/v1/views/data_subject_requests?position=" + str(key.json().at("position")),
                         {{"Authorization", "Bearer " + token}}),
             403);
  CHECK(f.rows(str(key.json().at("position"))).size() == 1);
}

TEST_CASE("dsr: an erasure or export naming its request fulfils it, and a request of another kind or subject is refused first") {
  DsrFixture f;
  auto ann = f.signup("ann@example.com");
  auto bob = f.signup("bob@example.com");
  auto id_of = [](const HttpResult& r) { return str(r.json().at("request_id")); };
  auto erasure = f.open(R"({"subject":")" + ann + R"(","kind":"erasure"})");
  auto access = f.open(R"({"subject":")" + ann + R"(","kind":"access"})");
  auto bobs = f.open(R"({"subject":")" + bob + R"(","kind":"erasure"})");
  REQUIRE(erasure.status == 201);
  REQUIRE(access.status == 201);
  REQUIRE(bobs.status == 201);
  const std::string head = f.head();
  auto erase = [&](const std::string& body) {
    return f.http->post("/v1/admin/subjects/" + ann + "/erasure", body, f.admin());
  };

  // Refused before anything is written: wrong kind, wrong subject, unknown id.
  for (const std::string& bad : {id_of(access), id_of(bobs), std::string("dsr-00000000000000000000000000000000")}) {
    CAPTURE(bad);
    auto p = problem_of(erase(R"({"reason":"Art. 17","request_id":")" + bad + R"("})"), 422);
    CHECK(pointer_of(p) == "/request_id");
  }
  CHECK(pointer_of(problem_of(erase(R"({"reason":"Art. 17","request_id":7})"), 422)) == "/request_id");
  CHECK(f.head() == head);
  CHECK(f.node->vault().find(ann)->has_value());

  // The access export closes the access request.
  auto exported = f.http->get("/v1/admin/subjects/" + ann + "/export?reason=Art.%2015&request_id=" + id_of(access),
                              f.admin());
  REQUIRE(exported.status == 200);
  CHECK(str(exported.json().at("request_id")) == id_of(access));

  auto done = erase(R"({"reason":"Art. 17","request_id":")" + id_of(erasure) + R"("})");
  REQUIRE(done.status == 200);
  CHECK(done.json().at("forgotten") == true);
  CHECK(str(done.json().at("request_status")) == "closed");
  CHECK_FALSE(f.node->vault().find(ann)->has_value());

  auto rows = f.rows(f.head(), "subject=" + ann);
  REQUIRE(rows.size() == 2);
  for (const auto& row : rows) {
    CHECK(str(row.at("status")) == "closed");
    CHECK(str(row.at("outcome")) == "completed");
  }
  // A closed request fulfils nothing more.
  problem_of(f.http->get("/v1/admin/subjects/" + ann + "/export?reason=again&request_id=" + id_of(access), f.admin()),
             409);
  CHECK(str(f.rows(f.head(), "subject=" + bob)[0].at("status")) == "open");
}
