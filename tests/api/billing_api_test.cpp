// Subscriptions and entitlements over HTTP on a real server: trials that
// expire on the injected clock (and after a restart), signed and idempotent
// payment webhooks driving grace, suspension and restoration, plan limits
// enforced at command time with the usage and an upgrade hint, exactly once
// under concurrency, plan features, feature flags, and tenants that never
// see or change each other's subscription.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <filesystem>
#include <future>
#include <sstream>

#include "api/node_fixture.h"
#include "support/eventually.h"
#include "support/mail_files.h"
#include "support/smtp_receiver.h"
#include "support/verify_aggregates.h"
#include "support/route_calls.h"
#include "support/workflows.h"
#include "engine/verify.h"
#include "engine/workflow/http_call.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {
constexpr std::int64_t kDayUs = 86'400LL * 1'000'000;
const char* kSecret = "whsec-test-secret";

struct BillingFixture {
  NodeFixture f;
  const Clock* clock;

  explicit BillingFixture(const Clock* c = nullptr, const std::string& plans_file = "",
                          const std::string& dir_override = "")
      : f(
            [&](ServerConfig& cfg) {
              cfg.billing_webhook_secret = kSecret;
              cfg.plans_file = plans_file;
              if (!dir_override.empty()) cfg.data_dir = dir_override;
            },
            c),
        clock(c) {}

  std::map<std::string, std::string> admin() { return {{"Authorization", "Bearer " + f.node->admin_token()}}; }
  static std::map<std::string, std::string> bearer(const std::string& t) { return {{"Authorization", "Bearer " + t}}; }

  std::string org(const std::string& slug) {
    static int n = 0;
    const std::string owner = f.signup("billing" + std::to_string(++n) + "-" + slug + "@example.com");
    auto r = f.create_org(owner, slug, admin());
    REQUIRE(r.status == 201);
    return str(r.json().at("org_id"));
  }
  std::string key(const std::string& org_id, const std::string& role = "owner") {
    auto r = f.http->post("/v1/admin/organizations/" + org_id + "/api-keys", R"({"name":"k","role":")" + role + R"("})",
                          admin());
    REQUIRE(r.status == 201);
    return str(r.json().at("token"));
  }
  // A manual workflow, published, of the organization of `key`; its id.
  std::string published_workflow(const std::string& key) {
    auto wf = f.http->post("/v1/workflows", R"({"name":"w","definition":)" + manual_workflow() + "}", bearer(key));
    REQUIRE(wf.status == 201);
    const std::string id = str(wf.json().at("workflow_id"));
    REQUIRE(f.http->post("/v1/workflows/" + id + "/versions", "", bearer(key)).status == 200);
    return id;
  }
  json::object subscription(const std::string& org_id) {
    auto r = f.http->get("/v1/organizations/" + org_id + "/subscription", admin());
    CAPTURE(r.body);
    REQUIRE(r.status == 200);
    return r.json().as_object();
  }
  HttpResult webhook(const std::string& body, std::int64_t at_s = -1) {
    const std::int64_t t = at_s >= 0 ? at_s : f.node->pipeline().clock().now_us() / 1'000'000;
    return f.http->post("/v1/billing/webhooks", body,
                        {{"Causeway-Billing-Signature", workflow::webhook_signature(kSecret, t, body)}});
  }
  static std::string payment(const std::string& id, const std::string& org_id, bool ok, const std::string& extra = "") {
    return R"({"id":")" + id + R"(","type":")" + (ok ? "payment.succeeded" : "payment.failed") +
           R"(","organization_id":")" + org_id + R"(","amount_cents":4900,"currency":"usd")" + extra + "}";
  }
  // Ticks the billing timers until the subscription's status is `status`.
  json::object tick_until(const std::string& org_id, const std::string& status) {
    json::object s;
    eventually(
        [&] {
          f.node->billing().tick();
          s = subscription(org_id);
          return str(s.at("status")) == status;
        },
        std::chrono::seconds(20), "the subscription of " + org_id + " to become " + status);
    return s;
  }
  int count_events(const std::string& org_id, const std::string& type) {
    auto r = f.http->get("/v1/admin/streams/subscription-" + org_id + "/events", admin());
    if (r.status == 404) return 0;  // no subscription events yet
    REQUIRE(r.status == 200);
    int n = 0;
    const auto body = r.json();
    for (const auto& e : body.at("events").as_array())
      if (e.at("type").as_string() == type) ++n;
    return n;
  }
};

struct PlansFile {
  TempDir dir;
  std::string path = dir.str() + "/plans.json";
  explicit PlansFile(int runs, int events, int api_calls) {
    std::ofstream(path) << R"({"default_plan": "free", "trial_days": 14, "grace_days": 7, "period_days": 30,
      "plans": {
        "free": {"tier": 0, "limits": {"seats": 3, "workflow_runs_per_month": )" << runs
                        << R"(, "events_per_month": )" << events << R"(, "api_calls_per_month": )" << api_calls << R"(},
                 "features": ["workflows"]},
        "pro": {"tier": 1, "trial": true, "limits": {"seats": 25, "workflow_runs_per_month": -1,
                 "events_per_month": -1, "api_calls_per_month": -1}, "features": ["workflows", "workflow_schedules"]}}})";
  }
};
}  // namespace

TEST_CASE("plans are public, and a new organization is on the free plan with its limits and no usage") {
  BillingFixture b;
  auto plans = b.f.http->get("/v1/plans");
  REQUIRE(plans.status == 200);
  CHECK(str(plans.json().at("default_plan")) == "free");
  CHECK(plans.json().at("plans").as_array().size() == 3);
  const std::string org = b.org("acme");
  auto s = b.subscription(org);
  CHECK(str(s.at("plan")) == "free");
  CHECK(str(s.at("status")) == "active");
  CHECK(s.at("limits").at("workflow_runs_per_month").as_int64() == 1000);
  CHECK(s.at("usage").at("workflow_runs").as_int64() == 0);
  CHECK(s.at("usage").at("seats").as_int64() == 1);
}

TEST_CASE("a trial converts on payment, or expires on the injected clock back to the free plan, once") {
  ManualClock clock(1'790'000'000'000'000);
  BillingFixture b(&clock);
  const std::string org = b.org("trial");
  const std::string owner = b.key(org, "owner");
  auto t = b.f.http->post("/v1/organizations/" + org + "/subscription/trial", R"({"plan":"pro"})", b.bearer(owner));
  CAPTURE(t.body);
  REQUIRE(t.status == 200);
  CHECK(str(t.json().at("status")) == "trialing");
  CHECK(str(t.json().at("plan")) == "pro");
  problem_of(b.f.http->post("/v1/organizations/" + org + "/subscription/trial", R"({"plan":"pro"})", b.bearer(owner)),
             409);
  b.f.node->billing().tick();  // not due yet
  CHECK(str(b.subscription(org).at("status")) == "trialing");
  clock.advance_us(14 * kDayUs);
  auto s = b.tick_until(org, "active");
  CHECK(str(s.at("plan")) == "free");
  for (int i = 0; i < 3; ++i) b.f.node->billing().tick();
  CHECK(b.count_events(org, "subscription.trial_expired") == 1);

  // Another organization converts: a payment during the trial.
  const std::string paid = b.org("paid");
  REQUIRE(b.f.http->post("/v1/organizations/" + paid + "/subscription/trial", R"({"plan":"pro"})", b.admin()).status ==
          200);
  auto w = b.webhook(BillingFixture::payment("evt_conv", paid, true));
  CAPTURE(w.body);
  REQUIRE(w.status == 201);
  auto after = b.subscription(paid);
  CHECK(str(after.at("status")) == "active");
  CHECK(str(after.at("plan")) == "pro");
  CHECK(after.at("period_end").is_string());
  CHECK(b.count_events(paid, "subscription.converted") == 1);
}

TEST_CASE("a trial's deadline survives a restart: the timers recover it from the log") {
  ManualClock clock(1'790'000'000'000'000);
  TempDir data;
  std::string org;
  {
    BillingFixture b(&clock, "", data.str());
    org = b.org("restart");
    REQUIRE(b.f.http->post("/v1/organizations/" + org + "/subscription/trial", R"({"plan":"pro"})", b.admin())
                .status == 200);
  }
  clock.advance_us(15 * kDayUs);
  // The timers learnt the deadline from the log at start-up (the timer loop may fire it before we tick).
  BillingFixture b(&clock, "", data.str());
  auto s = b.tick_until(org, "active");
  CHECK(str(s.at("plan")) == "free");
  CHECK(b.count_events(org, "subscription.trial_expired") == 1);
}

TEST_CASE("payment webhooks are verified, recorded once per provider event id, and drive grace and suspension") {
  ManualClock clock(1'790'000'000'000'000);
  BillingFixture b(&clock);
  const std::string org = b.org("dunning");
  const std::string member = b.key(org, "member");
  const std::string body = BillingFixture::payment("evt_1", org, true, R"(,"plan":"pro")");
  // Unsigned, wrongly signed, stale.
  problem_of(b.f.http->post("/v1/billing/webhooks", body), 401);
  problem_of(b.f.http->post("/v1/billing/webhooks", body,
                            {{"Causeway-Billing-Signature", workflow::webhook_signature("wrong", 1'790'000'000, body)}}),
             401);
  problem_of(b.webhook(body, 1'790'000'000 - 301), 401);
  CHECK(b.count_events(org, "subscription.payment_succeeded") == 0);

  auto first = b.webhook(body);
  REQUIRE(first.status == 201);
  CHECK_FALSE(first.json().at("duplicate").as_bool());
  auto again = b.webhook(body);
  REQUIRE(again.status == 200);
  CHECK(again.json().at("duplicate").as_bool());
  CHECK(b.count_events(org, "subscription.payment_succeeded") == 1);
  // The same provider id for another organization is a conflict.
  const std::string other = b.org("other");
  CHECK(pointer_of(problem_of(b.webhook(BillingFixture::payment("evt_1", other, true, R"(,"plan":"pro")")), 409)) ==
        "/id");

  REQUIRE(b.webhook(BillingFixture::payment("evt_2", org, false)).status == 201);
  auto due = b.subscription(org);
  CHECK(str(due.at("status")) == "past_due");
  CHECK(due.at("grace_ends_at").is_string());
  // In grace the organization still works.
  CHECK(b.f.http->post("/v1/workflows", R"({"name":"w","definition":)" + manual_workflow() + "}", b.bearer(member))
            .status == 201);
  clock.advance_us(7 * kDayUs);
  b.tick_until(org, "suspended");
  auto refused = problem_of(
      b.f.http->post("/v1/workflows", R"({"name":"w","definition":)" + manual_workflow() + "}", b.bearer(member)), 402);
  CHECK(str(refused.at("subscription_status")) == "suspended");
  // Reads still work, and a payment restores it.
  CHECK(b.f.http->get("/v1/organizations/" + org + "/subscription", b.bearer(member)).status == 200);
  REQUIRE(b.webhook(BillingFixture::payment("evt_3", org, true)).status == 201);
  CHECK(str(b.subscription(org).at("status")) == "active");
  CHECK(b.count_events(org, "subscription.restored") == 1);
  CHECK(b.f.http->post("/v1/workflows", R"({"name":"w","definition":)" + manual_workflow() + "}", b.bearer(member))
            .status == 201);
  // `causeway log verify` refolds the subscription aggregates like every other.
  auto& log = *b.f.node->embedded_log();
  verified_aggregates(log);
}

TEST_CASE("bad webhook and subscription bodies are 422 with a pointer and write nothing") {
  BillingFixture b;
  const std::string org = b.org("bad");
  const std::string before = b.f.head();
  CHECK(pointer_of(problem_of(b.webhook(R"({"id":"e","type":"refund","organization_id":")" + org +
                                        R"(","amount_cents":1,"currency":"usd"})"),
                              422)) == "/type");
  CHECK(pointer_of(problem_of(b.webhook(BillingFixture::payment("e1", org, true, R"(,"plan":"gold")")), 422)) ==
        "/plan");
  CHECK(pointer_of(problem_of(b.webhook(BillingFixture::payment("e2", org, true, R"(,"plan":"free")")), 422)) ==
        "/plan");
  CHECK(pointer_of(problem_of(b.webhook(BillingFixture::payment("e3", org, true, R"(,"extra":1)")), 422)) ==
        "/extra");
  problem_of(b.webhook(BillingFixture::payment("e4", "org-00000000000000000000000000000000", true, R"(,"plan":"pro")")),
             404);
  const std::string path = "/v1/organizations/" + org + "/subscription/";
  CHECK(pointer_of(problem_of(b.f.http->post(path + "trial", R"({"plan":"gold"})", b.admin()), 422)) == "/plan");
  CHECK(pointer_of(problem_of(b.f.http->post(path + "trial", R"({"plan":"free"})", b.admin()), 422)) == "/plan");
  CHECK(pointer_of(problem_of(b.f.http->post(path + "trial", R"({"plan":7})", b.admin()), 422)) == "/plan");
  CHECK(pointer_of(problem_of(b.f.http->post(path + "trial", R"({"plan":"pro","days":3})", b.admin()), 422)) ==
        "/days");
  problem_of(b.f.http->post(path + "trial", R"({"plan":"pro")", b.admin()), 400);
  problem_of(b.f.http->post(path + "cancellation", "", b.admin()), 409);  // nothing to cancel on free
  problem_of(b.f.http->request(http::verb::delete_, path + "cancellation", "", b.admin()), 409);
  problem_of(b.f.http->get(path + "trial", b.admin()), 405);
  CHECK(b.f.head() == before);
}

TEST_CASE("plan limits refuse the run or the batch that would pass them, with the usage and an upgrade hint") {
  PlansFile plans(2, 5, 1000);
  BillingFixture b(nullptr, plans.path);
  const std::string org = b.org("limits");
  const std::string key = b.key(org, "member");
  const std::string id = b.published_workflow(key);
  for (int i = 0; i < 2; ++i) REQUIRE(b.f.http->post("/v1/workflows/" + id + "/runs", "{}", b.bearer(key)).status == 201);
  auto over = problem_of(b.f.http->post("/v1/workflows/" + id + "/runs", "{}", b.bearer(key)), 402);
  CHECK(str(over.at("metric")) == "workflow_runs");
  CHECK(over.at("limit").as_int64() == 2);
  CHECK(over.at("usage").as_int64() == 2);
  CHECK(str(over.at("upgrade_to")) == "pro");
  CHECK(str(over.at("upgrade_hint")).find("pro") != std::string::npos);

  auto batch = [&](int from, int n) {
    std::string events;
    for (int i = 0; i < n; ++i)
      events += std::string(i ? "," : "") + R"({"event_id":"e)" + std::to_string(from + i) +
                R"(","event_type":"thing.happened","payload":{}})";
    return b.f.http->post("/v1/events", R"({"events":[)" + events + "]}", b.bearer(key));
  };
  auto four = batch(0, 4);
  CAPTURE(four.body);
  REQUIRE(four.status < 300);
  const std::string before = b.f.head();
  auto two = problem_of(batch(4, 2), 402);
  CHECK(two.at("usage").as_int64() == 4);
  CHECK(two.at("limit").as_int64() == 5);
  CHECK(b.f.head() == before);  // the whole batch is refused
  REQUIRE(batch(4, 1).status < 300);
  auto s = b.subscription(org);
  CHECK(s.at("usage").at("workflow_runs").as_int64() == 2);
  CHECK(s.at("usage").at("events").as_int64() == 5);

  // An upgrade lifts the limits at once.
  REQUIRE(b.f.http->request(http::verb::put, "/v1/organizations/" + org + "/subscription/plan", R"({"plan":"pro"})",
                            b.admin()).status == 200);
  CHECK(b.f.http->post("/v1/workflows/" + id + "/runs", "{}", b.bearer(key)).status == 201);
}

TEST_CASE("concurrent run starts against a limit: exactly the limit starts, and each API call counts once") {
  PlansFile plans(5, 100, 1000);
  BillingFixture b(nullptr, plans.path);
  const std::string org = b.org("race");
  const std::string key = b.key(org, "member");
  const std::string id = b.published_workflow(key);
  std::vector<std::future<int>> starts;
  for (int i = 0; i < 12; ++i)
    starts.push_back(std::async(std::launch::async, [&, i] {
      HttpClient c(b.f.node->port());
      auto h = BillingFixture::bearer(key);
      h["Idempotency-Key"] = "start-" + std::to_string(i);
      return c.post("/v1/workflows/" + id + "/runs", "{}", h).status;
    }));
  int ok = 0, refused = 0;
  for (auto& s : starts) {
    const int st = s.get();
    if (st == 201) ++ok;
    else if (st == 402) ++refused;
  }
  CHECK(ok == 5);
  CHECK(refused == 7);
  auto usage = b.subscription(org).at("usage").as_object();
  CHECK(usage.at("workflow_runs").as_int64() == 5);
  // Calls that wrote: workflow.create, publish, 5 starts.
  CHECK(usage.at("api_calls").as_int64() == 7);
}

TEST_CASE("the API call limit refuses the call past it, and reads are not counted") {
  PlansFile plans(100, 100, 3);
  BillingFixture b(nullptr, plans.path);
  const std::string org = b.org("calls");
  const std::string key = b.key(org, "member");
  for (int i = 0; i < 3; ++i)
    REQUIRE(b.f.http->post("/v1/workflows", R"({"name":"w","definition":)" + manual_workflow() + "}", b.bearer(key))
                .status == 201);
  for (int i = 0; i < 5; ++i)
    CHECK(b.f.http->get("/v1/organizations/" + org + "/subscription", b.bearer(key)).status == 200);
  auto p = problem_of(
      b.f.http->post("/v1/workflows", R"({"name":"w","definition":)" + manual_workflow() + "}", b.bearer(key)), 402);
  CHECK(str(p.at("metric")) == "api_calls");
  CHECK(p.at("usage").as_int64() == 3);
}

TEST_CASE("a scheduled workflow needs a plan with workflow_schedules: 403 naming the plan to upgrade to") {
  BillingFixture b;
  const std::string org = b.org("sched");
  const std::string key = b.key(org, "member");
  auto wf = b.f.http->post("/v1/workflows", R"({"name":"w","definition":{"format": 1, "name": "s", "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "schedule", "cron": "0 9 * * 1"}},
      {"id": "done", "type": "end"}], "edges": [{"from": "start", "to": "done"}]}})",
                           b.bearer(key));
  REQUIRE(wf.status == 201);
  const std::string id = str(wf.json().at("workflow_id"));
  auto refused = problem_of(b.f.http->post("/v1/workflows/" + id + "/versions", "", b.bearer(key)), 403);
  CHECK(str(refused.at("feature")) == "workflow_schedules");
  CHECK(str(refused.at("upgrade_to")) == "pro");
  REQUIRE(b.f.http->post("/v1/organizations/" + org + "/subscription/trial", R"({"plan":"pro"})", b.admin()).status ==
          200);
  CHECK(b.f.http->post("/v1/workflows/" + id + "/versions", "", b.bearer(key)).status == 200);
}

TEST_CASE("feature flags: deterministic per subject, on by plan, and an operator's override wins until cleared") {
  BillingFixture b;
  const std::string org = b.org("flags");
  const std::string key = b.key(org, "analyst");
  const std::string base = "/v1/organizations/" + org + "/flags";
  auto one = b.f.http->get(base + "/onboarding_checklist?subject=user-42", b.bearer(key));
  REQUIRE(one.status == 200);
  const std::string variant = str(one.json().at("variant"));
  for (int i = 0; i < 3; ++i)
    CHECK(str(b.f.http->get(base + "/onboarding_checklist?subject=user-42", b.bearer(key)).json().at("variant")) ==
          variant);
  auto all = b.f.http->get(base, b.bearer(key));
  REQUIRE(all.status == 200);
  CHECK(all.json().at("flags").as_array().size() == 2);
  problem_of(b.f.http->get(base + "/nope", b.bearer(key)), 404);

  const std::string admin_path = "/v1/admin/organizations/" + org + "/flags/";
  REQUIRE(b.f.http->request(http::verb::put, admin_path + "visual_builder_v2", R"({"value":"on"})", b.admin()).status ==
          200);
  auto forced = b.f.http->get(base + "/visual_builder_v2?subject=anyone", b.bearer(key)).json();
  CHECK(forced.at("enabled").as_bool());
  CHECK(str(forced.at("reason")) == "override");
  CHECK(pointer_of(problem_of(b.f.http->request(http::verb::put, admin_path + "onboarding_checklist",
                                                R"({"value":"purple"})", b.admin()),
                              422)) == "/value");
  CHECK(pointer_of(problem_of(b.f.http->request(http::verb::put, admin_path + "nope", R"({"value":"on"})", b.admin()),
                              422)) == "/flag");
  CHECK(pointer_of(problem_of(b.f.http->request(http::verb::put, admin_path + "visual_builder_v2", R"({"value":1})",
                                                b.admin()),
                              422)) == "/value");
  problem_of(b.f.http->request(http::verb::put, admin_path + "visual_builder_v2", R"({"value":"on"})", b.bearer(key)),
             401);
  REQUIRE(b.f.http->request(http::verb::delete_, admin_path + "visual_builder_v2", "", b.admin()).status == 200);
  CHECK(str(b.f.http->get(base + "/visual_builder_v2?subject=anyone", b.bearer(key)).json().at("reason")) != "override");
}

TEST_CASE("tenant matrix: another organization's key never reads or changes a subscription or its flags") {
  BillingFixture b;
  const std::string a = b.org("tenant-a");
  const std::string other = b.org("tenant-b");
  const std::string b_owner = b.key(other, "owner");
  const std::string a_analyst = b.key(a, "analyst");
  const std::string a_member = b.key(a, "member");
  const std::string base = "/v1/organizations/" + a;
  const std::vector<RouteCall> calls = subscription_calls(base);
  const std::uint64_t before = b.f.position();
  for (const auto& c : calls) {
    CAPTURE(c.path);
    problem_of(b.f.http->request(c.verb, c.path, c.body, BillingFixture::bearer(b_owner)), 404);
    problem_of(b.f.http->request(c.verb, c.path, c.body), 401);
    if (c.verb != http::verb::get) {
      problem_of(b.f.http->request(c.verb, c.path, c.body, BillingFixture::bearer(a_analyst)), 403);
      problem_of(b.f.http->request(c.verb, c.path, c.body, BillingFixture::bearer(a_member)), 403);
    } else {
      CHECK(b.f.http->request(c.verb, c.path, c.body, BillingFixture::bearer(a_analyst)).status == 200);
    }
  }
  CHECK(b.f.domain_writes_since(before).empty());  // the refusals are recorded as access.denied, nothing else
  // The owner of B changes only B.
  CHECK(b.f.http->request(http::verb::put, "/v1/organizations/" + other + "/subscription/plan", R"({"plan":"pro"})",
                          BillingFixture::bearer(b_owner)).status == 200);
  CHECK(str(b.subscription(a).at("plan")) == "free");
  CHECK(str(b.subscription(other).at("plan")) == "pro");
}

TEST_CASE("renaming an organization takes the operator or its own owner or admin key, never another's") {
  BillingFixture b;
  const std::string a = b.org("rename-a");
  const std::string other = b.org("rename-b");
  const std::string path = "/v1/organizations/" + a;
  problem_of(b.f.http->request(http::verb::patch, path, R"({"name":"Mine"})"), 401);
  problem_of(b.f.http->request(http::verb::patch, path, R"({"name":"Mine"})", BillingFixture::bearer(b.key(other))),
             404);
  problem_of(b.f.http->request(http::verb::patch, path, R"({"name":"Mine"})",
                               BillingFixture::bearer(b.key(a, "member"))),
             403);
  problem_of(b.f.http->request(http::verb::patch, path, R"({"name":"Mine"})",
                               BillingFixture::bearer(b.key(a, "analyst"))),
             403);
  auto ok = b.f.http->request(http::verb::patch, path, R"({"name":"Mine"})", BillingFixture::bearer(b.key(a, "admin")));
  CHECK(ok.status == 200);
  CHECK(b.f.http->request(http::verb::patch, path, R"({"name":"Ours"})", b.admin()).status == 200);
}

TEST_CASE("a conversion to paid is attributed to the owner's referrer") {
  BillingFixture b;
  const std::string referrer = b.f.signup("referrer@example.com");
  auto login = b.f.http->post("/v1/sessions", R"({"email":"referrer@example.com","password":"a long password"})");
  REQUIRE(login.status == 201);
  auto me = b.f.http->get("/v1/me/referral", {{"Authorization", "Bearer " + str(login.json().at("access_token"))}});
  REQUIRE(me.status == 200);
  auto owner = b.f.http->post("/v1/users", R"({"email":"owner@example.com","display_name":"O","password":"a long password",
      "referral_code":")" + str(me.json().at("referral_code")) + R"("})");
  REQUIRE(owner.status == 201);
  auto org = b.f.create_org(str(owner.json().at("user_id")), "referred", b.admin());
  REQUIRE(org.status == 201);
  const std::string org_id = str(org.json().at("org_id"));
  REQUIRE(b.webhook(BillingFixture::payment("evt_ref", org_id, true, R"(,"plan":"pro")")).status == 201);
  auto events = b.f.http->get("/v1/admin/streams/subscription-" + org_id + "/events", b.admin());
  REQUIRE(events.status == 200);
  CHECK(events.body.find(R"("referred_by":")" + referrer + "\"") != std::string::npos);
  // The referral report: the funnel's rows of the referrer's signups, with their conversion.
  auto report = b.f.http->get("/v1/views/signup_funnel?referred_by=" + referrer + "&position=" + b.f.head(), b.admin());
  CAPTURE(report.body);
  REQUIRE(report.status == 200);
  const auto rows = report.json();
  REQUIRE(rows.at("rows").as_array().size() == 1);
  CHECK(rows.at("rows").at(0).at("user_id") == owner.json().at("user_id"));
  CHECK(rows.at("rows").at(0).at("paid_at").is_string());
}

TEST_CASE("the signup funnel shows when a user verified their address and when their organization first paid") {
  BillingFixture b;
  const std::string owner = b.f.signup("funnel@example.com");
  // The verification link, from the outbox's file sink.
  auto delivered = mail_files(b.f.dir.str(), 1);
  REQUIRE(delivered.size() == 1);
  const std::string token = token_in(delivered[0]);
  REQUIRE(b.f.http->post("/v1/users/verification", R"({"token":")" + token + R"("})").status == 200);
  auto org = b.f.create_org(owner, "funnel", b.admin());
  REQUIRE(org.status == 201);
  auto paid = b.webhook(BillingFixture::payment("evt_funnel", str(org.json().at("org_id")), true, R"(,"plan":"pro")"));
  REQUIRE(paid.status == 201);
  auto row = b.f.http->get("/v1/views/signup_funnel?user_id=" + owner + "&position=" + str(paid.json().at("position")),
                           b.admin());
  CAPTURE(row.body);
  REQUIRE(row.status == 200);
  const auto body = row.json();
  REQUIRE(body.at("rows").as_array().size() == 1);
  const auto& r = body.at("rows").as_array()[0];
  CHECK(r.at("verified_at").is_string());
  CHECK(r.at("first_org_at").is_string());
  CHECK(r.at("paid_at").is_string());
}
