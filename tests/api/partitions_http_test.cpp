// The whole server on a log with three partitions (an in-memory log the
// fixture keeps across restarts): commands answer vector position tokens,
// views read their writes with them, mail is sent for events of every
// partition, the audit trail exports and verifies one partition at a time.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "api/node_fixture.h"
#include "engine/audit/verify_export.h"
#include "projections/runtime.h"
#include "projections/view_files.h"
#include "support/eventually.h"
#include "support/views_dump.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;

namespace {

std::map<std::string, std::string> admin(NodeFixture& f) {
  return {{"Authorization", "Bearer " + f.node->admin_token()}};
}

// Signs up `n` users and returns their ids, with the position token of the last sign-up.
std::pair<std::vector<std::string>, std::string> sign_up(NodeFixture& f, int n) {
  std::vector<std::string> ids;
  std::string token;
  for (int i = 0; i < n; ++i) {
    auto r = f.http->post("/v1/users", R"({"email":"p)" + std::to_string(i) +
                                           R"(@example.com","display_name":"P","password":"a long password"})");
    REQUIRE(r.status == 201);
    ids.emplace_back(r.json().at("user_id").as_string());
    token = std::string(r.json().at("position").as_string());
    CHECK(r.header("causeway-position") == token);
  }
  return {ids, token};
}

std::size_t parts(const std::string& token) { return std::count(token.begin(), token.end(), '.') + 1; }

// A user whose address places it on partition `p`: the first `<name>N@example.com` that does. Its id and address.
std::pair<std::string, std::string> user_on(NodeFixture& f, std::uint32_t p, const std::string& name) {
  for (int i = 0;; ++i) {
    const std::string email = name + std::to_string(i) + "@example.com";
    if (f.node->log().partition_of("email:" + f.node->vault().blind_index("email", email)) != p) continue;
    const std::string user = f.signup(email);
    REQUIRE(f.node->log().partition_of(user) == p);
    return {user, email};
  }
}

// An organization of `owner` whose slug places it on partition `p`: the first `<name>-N` that does.
std::string org_on(NodeFixture& f, const std::string& owner, std::uint32_t p, const std::string& name) {
  for (int i = 0;; ++i) {
    const std::string slug = name + "-" + std::to_string(i);
    if (f.node->log().partition_of("slug:" + slug) != p) continue;
    auto r = f.create_org(owner, slug);
    REQUIRE(r.status == 201);
    return std::string(r.json().at("org_id").as_string());
  }
}

// A published workflow of `org` whose manual runs notify input.user; `access` is a session of a member.
struct Notifier {
  NodeFixture& f;
  std::string org, access, workflow;

  Notifier(NodeFixture& fixture, std::string org_id, std::string session)
      : f(fixture), org(std::move(org_id)), access(std::move(session)) {
    auto wf = f.http->post("/v1/workflows", R"({"name":"n","definition":{"format":1,"name":"n",
      "input":{"user":"string"},
      "nodes":[{"id":"start","type":"trigger","trigger":{"kind":"manual"}},
               {"id":"tell","type":"action","action":{"kind":"notify","user":"input.user","message":"hello"}},
               {"id":"done","type":"end"}],
      "edges":[{"from":"start","to":"tell"},{"from":"tell","to":"done"}]}})",
                           in_org());
    CAPTURE(wf.body);
    REQUIRE(wf.status == 201);
    workflow = std::string(wf.json().at("workflow_id").as_string());
    REQUIRE(f.http->post("/v1/workflows/" + workflow + "/versions", "", in_org()).status == 200);
  }
  Headers in_org() const {
    return {{"Authorization", "Bearer " + access}, {"Causeway-Organization", org}};
  }
  // Runs the workflow for `user` and waits until the run has completed.
  void notify(const std::string& user) {
    auto run = f.http->post("/v1/workflows/" + workflow + "/runs", R"({"input":{"user":")" + user + R"("}})", in_org());
    CAPTURE(run.body);
    REQUIRE(run.status == 201);
    const std::string id = std::string(run.json().at("run_id").as_string());
    eventually(
        [&] {
          auto r = f.http->get("/v1/runs/" + id, in_org());
          return r.status == 200 && r.json().at("status") == "completed";
        },
        std::chrono::seconds(20), "the notifying run to complete");
  }
};

// The inbox of the session `access`, read once the views have applied the log's head.
json::object inbox(NodeFixture& f, const std::string& access) {
  auto r = f.http->get("/v1/me/notifications?position=" + f.head(), {{"Authorization", "Bearer " + access}});
  CAPTURE(r.body);
  REQUIRE(r.status == 200);
  return r.json().as_object();
}

// Waits until every projection has applied the log's head.
void views_caught_up(NodeFixture& f) {
  const std::string head = f.head();
  eventually(
      [&] {
        auto r = f.http->get("/v1/admin/projections", admin(f));
        if (r.status != 200 || r.json().at("rebuilding").as_bool()) return false;
        const auto body = r.json();
        for (const auto& p : body.at("projections").as_array())
          if (p.at("checkpoint") != head.c_str()) return false;
        return true;
      },
      std::chrono::seconds(20), "every projection at the head");
}

}  // namespace

TEST_CASE("on three partitions, commands answer a token of three parts and a view read with it sees the write") {
  NodeFixture f(NodeFixture::Partitions{3});
  REQUIRE(f.node->log().partitions() == 3);
  auto [users, token] = sign_up(f, 12);
  CHECK(parts(token) == 3);
  // The users landed on more than one partition.
  std::set<std::uint32_t> used;
  for (const auto& u : users) used.insert(f.node->log().partition_of(u));
  CHECK(used.size() > 1);
  // Each sign-up's own token is enough to read it back at once.
  auto r = f.http->post("/v1/users", R"({"email":"last@example.com","display_name":"L","password":"a long password"})");
  REQUIRE(r.status == 201);
  const std::string last = std::string(r.json().at("user_id").as_string());
  const std::string at = std::string(r.json().at("position").as_string());
  auto view = f.http->get("/v1/views/users?user_id=" + last + "&position=" + at, admin(f));
  REQUIRE(view.status == 200);
  CHECK(view.json().at("rows").as_array().size() == 1);
  // Every user is in the view once the last token is applied.
  auto all = f.http->get("/v1/views/users?limit=100&position=" + f.head(), admin(f));
  REQUIRE(all.status == 200);
  CHECK(all.json().at("rows").as_array().size() == 13);
  // A token of one part does not name a position of this log.
  problem_of(f.http->get("/v1/views/users?position=1", admin(f)), 400);
}

TEST_CASE("on three partitions, an organization's creation and its members are read back with the token, and "
          "survive a restart") {
  NodeFixture f(NodeFixture::Partitions{3});
  auto [users, token] = sign_up(f, 4);
  std::vector<std::string> orgs;
  for (int i = 0; i < 4; ++i) {
    auto r = f.create_org(users[i], "acme-" + std::to_string(i));
    REQUIRE(r.status == 201);
    orgs.emplace_back(r.json().at("org_id").as_string());
    const std::string at = std::string(r.json().at("position").as_string());
    auto members = f.http->get("/v1/views/memberships?org_id=" + orgs.back() + "&position=" + at, admin(f));
    REQUIRE(members.status == 200);
    REQUIRE(members.json().at("rows").as_array().size() == 1);
    CHECK(members.json().at("rows").as_array()[0].at("user_id").as_string() == users[i]);
  }
  const std::string head = f.head();
  f.restart();
  CHECK(f.head() == head);
  auto all = f.http->get("/v1/views/organizations?limit=100&position=" + head, admin(f));
  REQUIRE(all.status == 200);
  CHECK(all.json().at("rows").as_array().size() == 4);
}

TEST_CASE("on three partitions, the outbox mails the sign-ups of every partition") {
  NodeFixture f(NodeFixture::Partitions{3});
  for (std::uint32_t p = 0; p < 3; ++p)
    for (int k = 0; k < 3; ++k) user_on(f, p, "mail" + std::to_string(p) + std::to_string(k) + "-");
  const std::string mail = f.dir.str() + "/mail";
  auto delivered = [&] {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(mail, ec))
      if (e.path().extension() == ".eml") ++n;
    return n;
  };
  eventually([&] { return delivered() == 9; }, std::chrono::seconds(20), "nine verification mails");
  CHECK(f.node->outbox().sent() == 9);
}

TEST_CASE("on three partitions, each partition's audit chain exports and verifies offline on its own") {
  NodeFixture f(NodeFixture::Partitions{3});
  // Sign-ups in every partition (nine drawn at random leave one empty in about one run of thirteen).
  for (std::uint32_t p = 0; p < 3; ++p) user_on(f, p, "chain" + std::to_string(p) + "-");
  auto key = f.http->get("/v1/audit/public-key");
  REQUIRE(key.status == 200);
  auto pk = audit::parse_public_key(std::string(key.json().at("public_key").as_string()));
  REQUIRE(pk.ok());
  for (int p = 0; p < 3; ++p) {
    CAPTURE(p);
    auto r = f.http->get("/v1/audit/export?reason=check&partition=" + std::to_string(p), admin(f));
    REQUIRE(r.status == 200);
    std::istringstream in(r.body);
    auto report = audit::verify_export(in, *pk);
    CAPTURE(report.problem.value_or(""));
    CHECK_FALSE(report.problem);
    CHECK(report.checkpoints >= 1);
  }
  problem_of(f.http->get("/v1/audit/export?reason=check&partition=3", admin(f)), 400);
  auto live = audit::verify_live(f.node->log(), *pk);
  CAPTURE(live.problem.value_or(""));
  CHECK_FALSE(live.problem);
  CHECK(live.signed_each.offsets.size() == 3);
}

TEST_CASE("on three partitions, an organization's keys and workflows are born on its partition, a user on the "
          "partition of its address's reservation, an organization on its slug's") {
  NodeFixture f(NodeFixture::Partitions{3});
  auto& log = f.node->log();
  auto [users, token] = sign_up(f, 6);
  for (int i = 0; i < 6; ++i) {
    const std::string email = "p" + std::to_string(i) + "@example.com";
    CHECK(log.partition_of(users[i]) == log.partition_of("email:" + f.node->vault().blind_index("email", email)));
    auto r = f.create_org(users[i], "place-" + std::to_string(i));
    REQUIRE(r.status == 201);
    const std::string org = std::string(r.json().at("org_id").as_string());
    CHECK(log.partition_of(org) == log.partition_of("slug:place-" + std::to_string(i)));
    auto key = f.http->post("/v1/admin/organizations/" + org + "/api-keys", R"({"name":"k","role":"owner"})", admin(f));
    REQUIRE(key.status == 201);
    const std::string key_id = std::string(key.json().at("key_id").as_string());
    CHECK(log.partition_of(key_id) == log.partition_of(org));
    auto wf = f.http->post("/v1/workflows", R"({"name":"w","template":"welcome_series"})",
                           {{"Authorization", "Bearer " + std::string(key.json().at("token").as_string())}});
    REQUIRE(wf.status == 201);
    CHECK(log.partition_of(std::string(wf.json().at("workflow_id").as_string())) == log.partition_of(org));
  }
}

TEST_CASE("on three partitions, a subject's access export gathers its events from every partition in the order "
          "they were recorded, and erasure reaches all of them") {
  NodeFixture f(NodeFixture::Partitions{3});
  auto& log = f.node->log();
  const std::string user = f.signup("zed@example.com");
  // An organization whose slug places it on another partition than the user.
  std::string slug;
  for (int i = 0; slug.empty(); ++i)
    if (log.partition_of("slug:zed-" + std::to_string(i)) != log.partition_of(user)) slug = "zed-" + std::to_string(i);
  auto org = f.create_org(user, slug);
  REQUIRE(org.status == 201);
  REQUIRE(log.partition_of(std::string(org.json().at("org_id").as_string())) != log.partition_of(user));
  auto r = f.http->get("/v1/admin/subjects/" + user + "/export?reason=DSAR%201", admin(f));
  CAPTURE(r.body);
  REQUIRE(r.status == 200);
  std::vector<std::string> types;
  const auto body = r.json();
  for (auto& e : body.at("events").as_array()) types.emplace_back(e.at("type").as_string());
  CHECK(types == std::vector<std::string>{"user.signed_up", "organization.created", "subject.exported"});
  CHECK(r.body.find("zed@example.com") != std::string::npos);
  REQUIRE(f.http->post("/v1/admin/subjects/" + user + "/erasure", R"({"reason":"Art. 17"})", admin(f)).status == 200);
  auto after = f.http->get("/v1/admin/subjects/" + user + "/export?reason=after", admin(f));
  REQUIRE(after.status == 200);
  CHECK(after.body.find("zed@example.com") == std::string::npos);
  CHECK(after.body.find("[erased]") != std::string::npos);
}

TEST_CASE("on three partitions, a notification marked read by id is read though the inbox was marked all read at a "
          "higher position of another partition") {
  NodeFixture f(NodeFixture::Partitions{3});
  const auto [ann, ann_email] = user_on(f, 0, "ann");
  const std::string access = f.login(ann_email);
  Notifier busy(f, org_on(f, ann, 2, "busy"), access);
  Notifier quiet(f, org_on(f, ann, 1, "quiet"), access);
  for (int i = 0; i < 3; ++i) busy.notify(ann);
  REQUIRE(f.http->post("/v1/me/notifications/read-all", "", {{"Authorization", "Bearer " + access}}).status == 200);
  quiet.notify(ann);
  auto box = inbox(f, access);
  REQUIRE(box.at("unread").as_int64() == 1);
  const std::string late = std::string(box.at("notifications").at(0).at("notification_id").as_string());
  REQUIRE(f.http->post("/v1/me/notifications/" + late + "/read", "", {{"Authorization", "Bearer " + access}}).status ==
          200);
  CHECK(inbox(f, access).at("unread").as_int64() == 0);
}

TEST_CASE("on three partitions, every view equals a fresh rebuild from the log, whatever order the partitions "
          "are replayed in") {
  NodeFixture f(NodeFixture::Partitions{3});
  // Ann (partition 0) owns an organization on partition 2 whose runs notify her: her reads are recorded in
  // her partition, before the notifications they read in replay order. Bob (partition 2) owns an
  // organization on partition 0: its creation is replayed before his sign-up.
  const auto [ann, ann_email] = user_on(f, 0, "ann");
  const std::string bob = user_on(f, 2, "bob").first;
  org_on(f, bob, 0, "bobs");
  const std::string access = f.login(ann_email);
  Notifier ours(f, org_on(f, ann, 2, "anns"), access);
  Notifier other(f, org_on(f, ann, 1, "other"), access);
  for (int i = 0; i < 2; ++i) ours.notify(ann);
  auto box = inbox(f, access);
  REQUIRE(box.at("notifications").as_array().size() == 2);
  const std::string first = std::string(box.at("notifications").at(1).at("notification_id").as_string());
  const Headers as_ann{{"Authorization", "Bearer " + access}};
  REQUIRE(f.http->post("/v1/me/notifications/" + first + "/read", "", as_ann).status == 200);
  other.notify(ann);
  REQUIRE(f.http->post("/v1/me/notifications/read-all", "", as_ann).status == 200);
  ours.notify(ann);
  views_caught_up(f);
  f.http.reset();
  f.node.reset();

  const std::string live = dump_views(f.dir.str());
  ViewFiles files(f.dir.str());
  REQUIRE(files.lock_writer().ok());
  REQUIRE(ProjectionRuntime::rebuild_offline(*f.shared_.log, Upcaster{}, f.dir.str(), {},
                                             [](std::uint64_t, std::uint64_t) {})
              .ok());
  CHECK(dump_views(f.dir.str()) == live);
}
