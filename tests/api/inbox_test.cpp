// The in-app notification inbox over HTTP on a real server: a workflow's
// notify action reaches the recipient's inbox (the message opened; sealed in
// the log), marked read one by one or all at
// once (writing nothing when already read), only for members of the
// workflow's organization, and never another user's.
#include <doctest/doctest.h>

#include "api/node_fixture.h"
#include "support/eventually.h"
#include "support/mail_files.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;

namespace {

struct Inbox {
  NodeFixture f;
  std::string owner, org, access, workflow;

  Inbox() {
    owner = f.signup("inbox-owner@example.com");
    auto o = f.create_org(owner, "inbox");
    REQUIRE(o.status == 201);
    org = str(o.json().at("org_id"));
    access = login("inbox-owner@example.com");
    // A session acting in the organization builds and runs the workflow.
    auto wf = f.http->post("/v1/workflows", R"({"name":"n","definition":{"format":1,"name":"n",
      "input":{"user":"string","what":"string"},
      "nodes":[{"id":"start","type":"trigger","trigger":{"kind":"manual"}},
               {"id":"tell","type":"action","action":{"kind":"notify","user":"input.user",
                "message":"Your export {{ input.what }} is ready"}},
               {"id":"done","type":"end"}],
      "edges":[{"from":"start","to":"tell"},{"from":"tell","to":"done"}]}})",
                           in_org());
    CAPTURE(wf.body);
    REQUIRE(wf.status == 201);
    workflow = str(wf.json().at("workflow_id"));
    REQUIRE(f.http->post("/v1/workflows/" + workflow + "/versions", "", in_org()).status == 200);
  }
  Headers in_org() const { return {{"Authorization", "Bearer " + access}, {"Causeway-Organization", org}}; }
  static Headers as(const std::string& a) { return {{"Authorization", "Bearer " + a}}; }
  std::string login(const std::string& email) { return f.login(email); }
  // Starts a run notifying `user` and waits until it has completed.
  void notify(const std::string& user, const std::string& what, const std::string& subject = "") {
    const std::string extra = subject.empty() ? "" : R"(,"subject":")" + subject + R"(")";
    auto run = f.http->post("/v1/workflows/" + workflow + "/runs",
                            R"({"input":{"user":")" + user + R"(","what":")" + what + R"("})" + extra + "}", in_org());
    CAPTURE(run.body);
    REQUIRE(run.status == 201);
    const std::string id = str(run.json().at("run_id"));
    eventually(
        [&] {
          auto r = f.http->get("/v1/runs/" + id, in_org());
          return r.status == 200 && r.json().at("status") == "completed";
        },
        std::chrono::seconds(20), "the notifying run to complete");
  }
  // The user of `email` (verified, signed in as `a`) accepts the invitation mailed to them.
  bool join(const std::string& email, const std::string& a) {
    const std::string invitation = token_of_mail(f.dir.str(), email, "invited to join");
    const std::string proof = token_of_mail(f.dir.str(), email, "Confirm your email address");
    if (f.http->post("/v1/users/verification", R"({"token":")" + proof + R"("})").status != 200) return false;
    return f.http->post("/v1/invitations/acceptance", R"({"token":")" + invitation + R"("})", as(a)).status == 200;
  }
  json::object inbox(const std::string& a, const std::string& query = "") {
    auto r = f.http->get("/v1/me/notifications?position=" + f.head() + query, as(a));
    CAPTURE(r.body);
    REQUIRE(r.status == 200);
    return r.json().as_object();
  }
};
}  // namespace

TEST_CASE("a workflow's notification reaches the recipient's inbox, and is marked read once") {
  Inbox b;
  b.notify(b.owner, "A", b.owner);  // sealed under the run's data subject
  b.notify(b.owner, "B");           // no subject: sealed under the organization's key
  // In the log, the messages are sealed; the recipient (a user id) is not.
  auto events = b.f.node->log().read_forward(0, 1, 100'000);
  REQUIRE(events.ok());
  int sealed = 0, plain = 0;
  for (const auto& e : *events) {
    if (e.type != "run.event_emitted") continue;
    CHECK(e.data.find(R"("recipient":")" + b.owner + "\"") != std::string::npos);
    if (e.data.find("Your export") != std::string::npos) ++plain;
    else if (e.data.find("$sealed") != std::string::npos) ++sealed;
  }
  CHECK(sealed == 2);
  CHECK(plain == 0);
  auto box = b.inbox(b.access);
  CHECK(box.at("unread").as_int64() == 2);
  const auto& items = box.at("notifications").as_array();
  REQUIRE(items.size() == 2);
  CHECK(str(items[0].at("message")) == "Your export B is ready");  // newest first
  CHECK(str(items[1].at("message")) == "Your export A is ready");  // opened from the sealed payload
  CHECK(str(items[0].at("org_id")) == b.org);
  CHECK_FALSE(items[0].at("read").as_bool());
  const std::string first = str(items[1].at("notification_id"));
  auto read = b.f.http->post("/v1/me/notifications/" + first + "/read", "", Inbox::as(b.access));
  CAPTURE(read.body);
  REQUIRE(read.status == 200);
  const std::string head = b.f.head();
  CHECK(b.f.http->post("/v1/me/notifications/" + first + "/read", "", Inbox::as(b.access)).status == 200);
  CHECK(b.f.head() == head);  // already read: nothing written
  box = b.inbox(b.access, "&unread=true");
  REQUIRE(box.at("notifications").as_array().size() == 1);
  CHECK(str(box.at("notifications").at(0).at("message")) == "Your export B is ready");
  REQUIRE(b.f.http->post("/v1/me/notifications/read-all", "", Inbox::as(b.access)).status == 200);
  CHECK(b.f.head() != head);
  box = b.inbox(b.access);
  CHECK(box.at("unread").as_int64() == 0);
  for (const auto& n : box.at("notifications").as_array()) CHECK(n.at("read").as_bool());
  const std::string after = b.f.head();
  CHECK(b.f.http->post("/v1/me/notifications/read-all", "", Inbox::as(b.access)).status == 200);
  CHECK(b.f.head() == after);  // nothing new to read: nothing written
  problem_of(b.f.http->post("/v1/me/notifications/read-all", R"({"x":1})", Inbox::as(b.access)), 422);
  problem_of(b.f.http->post("/v1/me/notifications/nope/read", "", Inbox::as(b.access)), 404);
}

TEST_CASE("an inbox shows only the user's own notifications, of organizations they belong to") {
  Inbox b;
  const std::string outsider = b.f.signup("outsider@example.com");
  const std::string outsider_access = b.login("outsider@example.com");
  b.notify(b.owner, "mine");
  b.notify(outsider, "not a member");  // a workflow cannot reach a non-member's inbox
  CHECK(b.inbox(outsider_access).at("notifications").as_array().empty());
  // Not lost, only not shown: once the outsider joins, it is there (the view joins the memberships).
  {
    auto inv = b.f.http->post("/v1/organizations/" + b.org + "/invitations",
                              R"({"email":"outsider@example.com","role":"member"})", b.in_org());
    REQUIRE(inv.status == 201);
    auto joined = b.join("outsider@example.com", outsider_access);
    REQUIRE(joined);
    auto box = b.inbox(outsider_access);
    REQUIRE(box.at("notifications").as_array().size() == 1);
    CHECK(str(box.at("notifications").at(0).at("message")) == "Your export not a member is ready");
  }
  // A notify action whose user is not a user id fails its step: no address or name goes into the clear.
  {
    auto run = b.f.http->post("/v1/workflows/" + b.workflow + "/runs",
                              R"({"input":{"user":"someone@example.com","what":"x"}})", b.in_org());
    REQUIRE(run.status == 201);
    const std::string id = str(run.json().at("run_id"));
    eventually(
        [&] {
          auto r = b.f.http->get("/v1/runs/" + id, b.in_org());
          return r.status == 200 && r.json().at("status") == "failed";
        },
        std::chrono::seconds(20), "the run notifying an address to fail");
  }
  auto box = b.inbox(b.access);
  REQUIRE(box.at("notifications").as_array().size() == 1);
  const std::string mine = str(box.at("notifications").at(0).at("notification_id"));
  // Another user cannot read or mark someone else's notification.
  problem_of(b.f.http->post("/v1/me/notifications/" + mine + "/read", "", Inbox::as(outsider_access)), 404);
  problem_of(b.f.http->get("/v1/me/notifications"), 401);
  problem_of(b.f.http->get("/v1/me/notifications?limit=0", Inbox::as(b.access)), 400);
  problem_of(b.f.http->get("/v1/me/notifications?colour=red", Inbox::as(b.access)), 400);
  problem_of(b.f.http->post("/v1/me/notifications", "", Inbox::as(b.access)), 405);
}
