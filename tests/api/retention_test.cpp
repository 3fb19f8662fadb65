// Retention policies over HTTP: personal data expires by destroying the day's
// bucket key (never by touching the log), legal holds keep it, enforcement is
// an event and happens once, and the destroyed key leaves no copy on disk.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "api/node_fixture.h"
#include "engine/aggregates/retention.h"
#include "engine/retention/buckets.h"
#include "engine/verify.h"
#include "support/files.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

constexpr const char* kEmail = "ottoline.vanderbrook@example.com";
constexpr std::int64_t kDay = retention::kDayUs;

struct RetentionFixture {
  ManualClock clock;  // declared first: the node reads it until it stops
  NodeFixture f{[](ServerConfig& cfg) { cfg.retention_sweep_interval_s = 0; }, &clock};

  std::map<std::string, std::string> admin() { return {{"Authorization", "Bearer " + f.node->admin_token()}}; }

  std::string user(const std::string& email = kEmail) {
    auto r = f.http->post("/v1/users", R"({"email":")" + email + R"(","display_name":"Ottoline","password":"a long password"})");
    REQUIRE(r.status == 201);
    return std::string(r.json().at("user_id").as_string());
  }
  HttpResult put_policy(const std::string& scope, const std::string& category, const std::string& body) {
    return f.http->request(http::verb::put, "/v1/admin/retention-policies/" + scope + "/" + category, body, admin());
  }
  HttpResult remove_policy(const std::string& scope, const std::string& category) {
    return f.http->request(http::verb::delete_, "/v1/admin/retention-policies/" + scope + "/" + category,
                           R"({"reason":"superseded"})", admin());
  }
  json::object sweep() {
    auto r = f.http->post("/v1/admin/retention/sweeps", "", admin());
    REQUIRE(r.status == 200);
    return r.json().as_object();
  }
  std::string email_of(const std::string& user_id) {
    auto r = f.http->get("/v1/views/users?user_id=" + user_id + "&position=" + f.head(), admin());
    REQUIRE(r.status == 200);
    auto body = r.json();
    REQUIRE(body.at("rows").as_array().size() == 1);
    return std::string(body.at("rows").as_array()[0].at("email").as_string());
  }
  std::string bucket_today() { return retention::bucket_for("", "user.signed_up", clock.now_us()); }
};

std::vector<std::string> strings(const json::value& v) {
  std::vector<std::string> out;
  for (auto& s : v.as_array()) out.emplace_back(s.as_string());
  return out;
}

}  // namespace

TEST_CASE("retention: personal data reads [expired] once its day is older than the policy, and the log still verifies") {
  RetentionFixture t;
  const std::string bucket = t.bucket_today();
  auto u = t.user();
  auto wrapped = t.f.node->embedded_log()->key_store()->get(bucket);
  REQUIRE(wrapped.ok());
  REQUIRE(wrapped->has_value());

  auto r = t.put_policy("all", "user", R"({"max_age_days":2,"reason":"accounts are kept two days in this test"})");
  REQUIRE(r.status == 200);
  CHECK(r.json().at("max_age_days") == 2);
  CHECK(t.email_of(u) == kEmail);

  t.clock.advance_us(2 * kDay);  // the day is not yet two whole days old
  auto first = t.sweep();
  CHECK(strings(first.at("enforced")).empty());
  CHECK(first.at("kept") == 1);
  CHECK(t.email_of(u) == kEmail);

  t.clock.advance_us(kDay);
  auto second = t.sweep();
  CHECK(strings(second.at("enforced")) == std::vector<std::string>{bucket});
  CHECK(t.email_of(u) == "[expired]");
  CHECK_FALSE(t.f.node->vault().find(bucket)->has_value());
  CHECK(t.f.node->vault().find(u)->has_value());  // the subject's own key is untouched

  // The enforcement is an event on the scope's stream and a row of the view; a
  // second sweep finds nothing to do and writes nothing.
  auto events = t.f.http->get("/v1/admin/streams/retention-all/events", t.admin());
  REQUIRE(events.status == 200);
  CHECK(events.body.find("retention.policy_set") != std::string::npos);
  CHECK(events.body.find("retention.enforced") != std::string::npos);
  const std::string head = t.f.head();
  auto third = t.sweep();
  CHECK(strings(third.at("enforced")).empty());
  CHECK(t.f.head() == head);
  auto rows = t.f.http->get("/v1/views/retention_enforcements?position=" + head, t.admin());
  REQUIRE(rows.status == 200);
  auto rows_body = rows.json();
  auto& list = rows_body.at("rows").as_array();
  REQUIRE(list.size() == 1);
  CHECK(list[0].at("category") == "user");
  CHECK(list[0].at("policy") == "default");
  CHECK(list[0].at("day").as_string() == retention::date_of(retention::day_of(t.clock.now_us() - 3 * kDay)));

  // A new signup today is sealed under a new bucket, readable.
  auto later = t.user("second.person@example.com");
  CHECK(t.email_of(later) == "second.person@example.com");

  auto& log = *t.f.node->embedded_log();
  auto report = verify_chain(log, 0, log.head().offsets[0], log.chain_head(), nullptr);
  CAPTURE(report.problem.value_or(""));
  CHECK_FALSE(report.problem);

  t.f.node->stop();
  auto hits = files_containing(t.f.dir.str(), **wrapped);
  CHECK(hits.empty());
  for (auto& h : hits) MESSAGE("the destroyed bucket key is still in " << h);
}

TEST_CASE("retention: a legal hold on a subject keeps the bucket holding their data until it is released") {
  RetentionFixture t;
  const std::string bucket = t.bucket_today();
  auto held = t.user();
  auto other = t.user("someone.else@example.com");
  REQUIRE(t.f.http->post("/v1/admin/subjects/" + held + "/holds", R"({"reason":"litigation 2026-31"})", t.admin())
              .status == 200);
  REQUIRE(t.put_policy("all", "user", R"({"max_age_days":1,"reason":"short"})").status == 200);
  t.clock.advance_us(5 * kDay);

  auto s = t.sweep();
  CHECK(strings(s.at("held")) == std::vector<std::string>{bucket});
  CHECK(strings(s.at("enforced")).empty());
  CHECK(s.at("events_scanned").to_number<std::int64_t>() >= 2);
  CHECK(t.email_of(held) == kEmail);
  CHECK(t.email_of(other) == "someone.else@example.com");

  REQUIRE(t.f.http->request(http::verb::delete_, "/v1/admin/subjects/" + held + "/holds", R"({"reason":"closed"})",
                            t.admin())
              .status == 200);
  auto after = t.sweep();
  CHECK(strings(after.at("enforced")) == std::vector<std::string>{bucket});
  CHECK(t.email_of(held) == "[expired]");
  CHECK(t.email_of(other) == "[expired]");
}

TEST_CASE("retention: removing the policy keeps data, and a tenant's policy overrides the default for its own buckets") {
  RetentionFixture t;
  auto u = t.user();
  REQUIRE(t.put_policy("all", "user", R"({"max_age_days":1,"reason":"short"})").status == 200);
  auto same = t.put_policy("all", "user", R"({"max_age_days":1,"reason":"short"})");
  REQUIRE(same.status == 200);  // setting the same policy again writes nothing
  CHECK(same.json().at("position").as_string() == t.f.head());
  REQUIRE(t.remove_policy("all", "user").status == 200);
  t.clock.advance_us(10 * kDay);
  auto s = t.sweep();
  CHECK(strings(s.at("enforced")).empty());
  CHECK(t.email_of(u) == kEmail);

  // Policy resolution is the aggregate's pure function.
  retention::State own, all;
  all.max_age_days["user"] = 30;
  own.max_age_days["user"] = 400;
  retention::Bucket tenant_bucket{100, "org-1", "user"}, none{100, "", "user"}, session{100, "org-1", "session"};
  auto p = retention::policy_for(own, all, tenant_bucket);
  REQUIRE(p);
  CHECK(p->max_age_days == 400);
  CHECK(p->policy == std::string("tenant"));
  auto d = retention::policy_for(all, all, none);
  REQUIRE(d);
  CHECK(d->max_age_days == 30);
  CHECK(d->policy == std::string("default"));
  CHECK_FALSE(retention::policy_for(own, all, session));
}

TEST_CASE("retention: a whole number written with a fraction or an exponent is an integer, as JSON Schema counts it") {
  RetentionFixture t;
  auto set = t.put_policy("all", "user", R"({"max_age_days":30.0,"reason":"thirty days"})");
  REQUIRE(set.status == 200);
  CHECK(set.json().at("max_age_days").as_int64() == 30);
  const std::string head = t.f.head();
  // The same policy again (3e1 is 30) writes nothing.
  CHECK(t.put_policy("all", "user", R"({"max_age_days":3e1,"reason":"thirty days"})").status == 200);
  CHECK(t.f.head() == head);
}

TEST_CASE("retention: bad policies are refused with a pointer and write nothing") {
  RetentionFixture t;
  t.user();
  const std::string head = t.f.head();
  auto pointer = [&](const HttpResult& r, int status) { return pointer_of(problem_of(r, status)); };
  CHECK(pointer(t.put_policy("all", "nosuchthing", R"({"max_age_days":5,"reason":"x"})"), 422) == "/category");
  CHECK(pointer(t.put_policy("all", "User", R"({"max_age_days":5,"reason":"x"})"), 422) == "/category");
  CHECK(pointer(t.put_policy("all", "user", R"({"max_age_days":0,"reason":"x"})"), 422) == "/max_age_days");
  CHECK(pointer(t.put_policy("all", "user", R"({"max_age_days":"5","reason":"x"})"), 422) == "/max_age_days");
  CHECK(pointer(t.put_policy("all", "user", R"({"max_age_days":5})"), 422) == "/reason");  // missing: points at it
  CHECK(pointer(t.put_policy("all", "user", R"({"max_age_days":5,"reason":"x","extra":1})"), 422) == "/extra");
  CHECK(pointer(t.put_policy("all", "user", R"({"category":"user","max_age_days":5,"reason":"x"})"), 422) ==
        "/category");
  CHECK(pointer(t.put_policy("all", "user", R"({"max_age_days":5.5,"reason":"x"})"), 422) == "/max_age_days");
  // Removing a policy of no category at all is refused like setting one (a known one with no policy is 200).
  CHECK(pointer(t.remove_policy("all", "nosuchthing"), 422) == "/category");
  CHECK(t.remove_policy("all", "user").status == 200);
  problem_of(t.put_policy("org-0123456789abcdef0123456789abcdef", "user", R"({"max_age_days":5,"reason":"x"})"), 404);
  problem_of(t.f.http->request(http::verb::put, "/v1/admin/retention-policies/all/user",
                               R"({"max_age_days":5,"reason":"x"})"),
             401);
  problem_of(t.f.http->post("/v1/admin/retention/sweeps", ""), 401);
  problem_of(t.f.http->get("/v1/admin/retention/sweeps", t.admin()), 405);
  CHECK(t.f.head() == head);
}
