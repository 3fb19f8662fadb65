// Organization membership over HTTP on a real server: invitations mailed
// through the outbox and accepted with the link by the invited account only,
// declined, revoked, expiring on the injected clock; roles, role changes,
// removal and leaving; ownership transfer (an organization always has one
// owner); seats enforced against the plan (pending invitations count, 402
// with the upgrade hint, raced invitations never pass the limit); sessions
// acting in an organization by membership; admin impersonation (bounded,
// reason required, both actors recorded, visible to the user); a tenant
// matrix over every membership route, with each denial recorded as an
// event; and bad input.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <cctype>
#include <future>
#include <set>

#include "api/node_fixture.h"
#include "support/mail_files.h"
#include "support/verify_aggregates.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;

namespace {

struct Team {
  NodeFixture& f;
  explicit Team(NodeFixture& fx) : f(fx) {}

  Headers admin() { return {{"Authorization", "Bearer " + f.node->admin_token()}}; }
  // A session's headers, acting in `org` when given.
  static Headers as(const std::string& access, const std::string& org = "") {
    Headers h{{"Authorization", "Bearer " + access}};
    if (!org.empty()) h["Causeway-Organization"] = org;
    return h;
  }
  std::string login(const std::string& email) { return f.login(email); }
  // A user who signed up with `email` and the organization they own.
  struct Owned {
    std::string user, org;
  };
  Owned owned(const std::string& email, const std::string& slug) {
    const std::string user = f.signup(email);
    return {user, org(user, slug)};
  }
  std::string org(const std::string& owner, const std::string& slug) {
    auto r = f.create_org(owner, slug);
    REQUIRE(r.status == 201);
    return str(r.json().at("org_id"));
  }
  HttpResult invite(const std::string& org, const std::string& email, const std::string& role, const Headers& h) {
    return f.http->post("/v1/organizations/" + org + "/invitations",
                        R"({"email":")" + email + R"(","role":")" + role + R"("})", h);
  }
  std::string token_of(const std::string& email, const std::string& what) {
    return token_of_mail(f.dir.str(), email, what);
  }
  std::string token_for(const std::string& email) { return token_of(email, "invited to join"); }
  // Signs up `email` and verifies the address with the welcome mail's link; the user id.
  std::string verified(const std::string& email) {
    const std::string user = f.signup(email);
    const std::string token = token_of(email, "Confirm your email address");
    REQUIRE(f.http->post("/v1/users/verification", R"({"token":")" + token + R"("})").status == 200);
    return user;
  }
  HttpResult accept(const std::string& token, const std::string& access) {
    return f.http->post("/v1/invitations/acceptance", R"({"token":")" + token + R"("})", as(access));
  }
  json::object members(const std::string& org, const Headers& h) {
    auto r = f.http->get("/v1/organizations/" + org + "/members", h);
    CAPTURE(r.body);
    REQUIRE(r.status == 200);
    return r.json().as_object();
  }
  // The events of a stream (the operator's read), oldest first.
  std::vector<json::object> events_of(const std::string& stream) {
    auto r = f.http->get("/v1/admin/streams/" + stream + "/events?limit=1000", admin());
    if (r.status == 404) return {};
    REQUIRE(r.status == 200);
    std::vector<json::object> out;
    const auto body = r.json();
    for (const auto& e : body.at("events").as_array()) out.push_back(e.as_object());
    return out;
  }
  std::string role_in(const json::object& members, const std::string& user) {
    for (const auto& m : members.at("members").as_array())
      if (m.at("user_id").as_string() == user) return str(m.at("role"));
    return "";
  }
};

}  // namespace

TEST_CASE("an invitation is mailed, accepted once by the invited account, and makes a member with its role") {
  NodeFixture f;
  Team t(f);
  const auto [owner, org] = t.owned("owner@example.com", "team-a");
  const std::string owner_access = t.login("owner@example.com");
  auto inv = t.invite(org, "Bea@Example.com", "analyst", Team::as(owner_access, org));
  CAPTURE(inv.body);
  REQUIRE(inv.status == 201);
  std::string lower = inv.body;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(lower.find("bea@example.com") == std::string::npos);  // the reply does not echo the address
  CHECK(inv.body.find("cwt_") == std::string::npos);          // nor the link: it goes only to the address
  // The mail: to the normalized address, with the organization and the role.
  const std::string bea = f.signup("bea@example.com");
  const std::string token = t.token_for("bea@example.com");
  REQUIRE_FALSE(token.empty());
  // Another account cannot use a forwarded link.
  f.signup("eve@example.com");
  problem_of(t.accept(token, t.login("eve@example.com")), 403);
  // Nor can an account that has the address but has not proven it.
  const std::string bea_access = t.login("bea@example.com");
  auto unverified = problem_of(t.accept(token, bea_access), 403);
  CHECK(str(unverified.at("detail")).find("verify your email address") != std::string::npos);
  // Verified, the invited account joins, once.
  const std::string proof = t.token_of("bea@example.com", "Confirm your email address");
  REQUIRE(f.http->post("/v1/users/verification", R"({"token":")" + proof + R"("})").status == 200);
  auto ok = t.accept(token, bea_access);
  CAPTURE(ok.body);
  REQUIRE(ok.status == 200);
  problem_of(t.accept(token, bea_access), 404);
  auto m = t.members(org, Team::as(bea_access, org));
  CHECK(t.role_in(m, bea) == "analyst");
  CHECK(t.role_in(m, owner) == "owner");
  CHECK_FALSE(m.contains("invitations"));  // pending invitations are for owners and admins
  // The session now acts in the organization with the analyst role: it reads, it does not invite
  // (here without the header: the path names the organization). The refusal is recorded there.
  problem_of(t.invite(org, "x@example.com", "member", Team::as(bea_access)), 403);
  const auto denied = t.events_of("access-denied-" + org);
  REQUIRE(denied.size() == 1);
  CHECK(str(denied[0].at("actor")) == bea);
  CHECK(str(denied[0].at("data").at("route")) == "organizations.invite");
  auto mine = f.http->get("/v1/me/organizations", Team::as(bea_access));
  REQUIRE(mine.status == 200);
  REQUIRE(mine.json().at("organizations").as_array().size() == 1);
  CHECK(str(mine.json().at("organizations").at(0).at("role")) == "analyst");
  // Without a membership, a session is refused; without naming an organization too.
  problem_of(f.http->get("/v1/organizations/" + org + "/members", Team::as(t.login("eve@example.com"), org)), 403);
  problem_of(f.http->get("/v1/workflows", Team::as(bea_access)), 403);
}

TEST_CASE("an invitation can be declined by the link, revoked by an admin, and expires after seven days") {
  ManualClock clock(1'790'000'000'000'000);
  NodeFixture f([](ServerConfig&) {}, &clock);
  Team t(f);
  const auto [owner, org] = t.owned("o2@example.com", "team-b");
  REQUIRE(t.invite(org, "d1@example.com", "member", t.admin()).status == 201);
  const std::string declined = t.token_for("d1@example.com");
  REQUIRE_FALSE(declined.empty());
  CHECK(f.http->post("/v1/invitations/declination", R"({"token":")" + declined + R"("})").status == 200);
  t.verified("d1@example.com");
  problem_of(t.accept(declined, t.login("d1@example.com")), 404);

  auto revoked = t.invite(org, "d2@example.com", "member", t.admin());
  REQUIRE(revoked.status == 201);
  const std::string id = str(revoked.json().at("invitation_id"));
  // A second pending invitation to the same address is a conflict until it is revoked.
  CHECK(pointer_of(problem_of(t.invite(org, "d2@example.com", "admin", t.admin()), 409)) == "/email");
  CHECK(f.http->del("/v1/organizations/" + org + "/invitations/" + id, t.admin()).status == 200);
  problem_of(f.http->del("/v1/organizations/" + org + "/invitations/" + id, t.admin()), 404);

  REQUIRE(t.invite(org, "d3@example.com", "member", t.admin()).status == 201);
  t.verified("d3@example.com");
  const std::string late = t.token_for("d3@example.com");
  REQUIRE_FALSE(late.empty());
  clock.advance_us(7LL * 86'400 * 1'000'000);
  auto expired = problem_of(t.accept(late, t.login("d3@example.com")), 404);
  CHECK(str(expired.at("detail")).find("expired") != std::string::npos);
  // A tampered link is no link.
  std::string bad = late;
  bad.back() = bad.back() == 'a' ? 'b' : 'a';
  problem_of(f.http->post("/v1/invitations/declination", R"({"token":")" + bad + R"("})"), 401);
}

TEST_CASE("roles change, members leave or are removed, and the ownership moves but is never left empty") {
  NodeFixture f;
  Team t(f);
  const auto [owner, org] = t.owned("o3@example.com", "team-c");
  const std::string owner_access = t.login("o3@example.com");
  std::vector<std::string> users;
  for (const char* who : {"m1@example.com", "m2@example.com"}) {
    REQUIRE(t.invite(org, who, "member", t.admin()).status == 201);
    users.push_back(t.verified(who));
  }
  for (const char* who : {"m1@example.com", "m2@example.com"})
    REQUIRE(t.accept(t.token_for(who), t.login(who)).status == 200);
  const std::string m1 = users[0], m2 = users[1];
  const std::string base = "/v1/organizations/" + org + "/members/";
  const auto owner_h = Team::as(owner_access, org);
  CHECK(f.http->put(base + m1 + "/role", R"({"role":"admin"})", owner_h).status == 200);
  CHECK(pointer_of(problem_of(f.http->put(base + m1 + "/role", R"({"role":"owner"})", owner_h), 422)) == "/role");
  CHECK(pointer_of(problem_of(f.http->put(base + m1 + "/role", R"({"role":"boss"})", owner_h), 422)) == "/role");
  problem_of(f.http->put(base + owner + "/role", R"({"role":"member"})", owner_h), 409);
  // An admin (m1, signed in) removes m2; the owner cannot be removed, by anyone.
  const std::string m1_access = t.login("m1@example.com");
  CHECK(f.http->del(base + m2, Team::as(m1_access, org)).status == 200);
  problem_of(f.http->del(base + owner, Team::as(m1_access, org)), 409);
  problem_of(f.http->del(base + owner, owner_h), 409);
  // Ownership: not by an admin, not by a key, not to a non-member; then to m1.
  const std::string transfer = "/v1/organizations/" + org + "/ownership-transfer";
  problem_of(f.http->post(transfer, R"({"user_id":")" + owner + R"("})", Team::as(m1_access, org)), 403);
  CHECK(pointer_of(problem_of(f.http->post(transfer, R"({"user_id":")" + m2 + R"("})", owner_h), 422)) == "/user_id");
  REQUIRE(f.http->post(transfer, R"({"user_id":")" + m1 + R"("})", owner_h).status == 200);
  auto m = t.members(org, owner_h);
  CHECK(str(m.at("owner_user_id")) == m1);
  CHECK(t.role_in(m, m1) == "owner");
  CHECK(t.role_in(m, owner) == "admin");
  // The former owner leaves by removing themself (any role may).
  CHECK(f.http->del(base + owner, owner_h).status == 200);
  problem_of(f.http->get("/v1/organizations/" + org + "/members", owner_h), 403);
  // The new owner cannot leave without transferring.
  problem_of(f.http->del(base + m1, Team::as(m1_access, org)), 409);
  int owners = 0;
  const auto all = t.members(org, t.admin());
  for (const auto& x : all.at("members").as_array()) owners += x.at("role") == "owner";
  CHECK(owners == 1);
  // `causeway log verify` refolds the organization, members and all, to the stored state.
  verified_aggregates(*f.node->embedded_log());
  // The memberships view agrees with the aggregate, read by the new owner's session as of the head.
  auto view = f.http->get("/v1/views/memberships?position=" + f.head(), Team::as(m1_access, org));
  CAPTURE(view.body);
  REQUIRE(view.status == 200);
  const auto rows = view.json();
  std::map<std::string, std::string> viewed;
  for (const auto& r : rows.at("rows").as_array()) viewed[str(r.at("user_id"))] = str(r.at("role"));
  CHECK(viewed == std::map<std::string, std::string>{{m1, "owner"}});
  auto orgs = f.http->get("/v1/views/organizations?position=" + f.head(), Team::as(m1_access, org));
  REQUIRE(orgs.status == 200);
  CHECK(str(orgs.json().at("rows").at(0).at("owner_user_id")) == m1);
}

TEST_CASE("seats count members and pending invitations: past the plan's seats an invitation is 402 with the hint") {
  NodeFixture f;
  Team t(f);
  const auto [owner, org] = t.owned("o4@example.com", "team-d");
  // The free plan has 3 seats: the owner and two pending invitations fill them.
  REQUIRE(t.invite(org, "s1@example.com", "member", t.admin()).status == 201);
  REQUIRE(t.invite(org, "s2@example.com", "member", t.admin()).status == 201);
  const std::string head = f.head();
  auto full = problem_of(t.invite(org, "s3@example.com", "member", t.admin()), 402);
  CHECK(str(full.at("metric")) == "seats");
  CHECK(full.at("limit").as_int64() == 3);
  CHECK(full.at("usage").as_int64() == 3);
  CHECK(str(full.at("upgrade_to")) == "pro");
  CHECK(f.head() == head);  // nothing written
  auto sub = f.http->get("/v1/organizations/" + org + "/subscription", t.admin());
  CHECK(sub.json().at("usage").at("seats").as_int64() == 3);
  // Revoking one frees its seat.
  auto m = t.members(org, t.admin());
  const std::string first = str(m.at("invitations").at(0).at("invitation_id"));
  REQUIRE(f.http->del("/v1/organizations/" + org + "/invitations/" + first, t.admin()).status == 200);
  CHECK(t.invite(org, "s3@example.com", "member", t.admin()).status == 201);
}

TEST_CASE("raced invitations never pass the seat limit: exactly the free seats are taken") {
  NodeFixture f;
  Team t(f);
  const auto [owner, org] = t.owned("o5@example.com", "team-e");
  std::vector<std::future<int>> racers;
  for (int i = 0; i < 8; ++i)
    racers.push_back(std::async(std::launch::async, [&, i] {
      HttpClient c(f.node->port());
      return c.post("/v1/organizations/" + org + "/invitations",
                    R"({"email":"r)" + std::to_string(i) + R"(@example.com","role":"member"})", t.admin())
          .status;
    }));
  int created = 0, refused = 0;
  for (auto& r : racers) {
    const int s = r.get();
    created += s == 201;
    refused += s == 402;
  }
  CHECK(created == 2);
  CHECK(refused == 6);
  CHECK(t.members(org, t.admin()).at("seats_taken").as_int64() == 3);
}

TEST_CASE("an impersonation is bounded and reasoned, records both actors, and the user sees it") {
  ManualClock clock(1'790'000'000'000'000);
  NodeFixture f([](ServerConfig&) {}, &clock);
  Team t(f);
  const auto [user, org] = t.owned("imp@example.com", "team-f");
  const std::string path = "/v1/admin/impersonations";
  problem_of(f.http->post(path, R"({"user_id":")" + user + R"(","reason":"ticket 42: cannot rename"})"), 401);
  CHECK(pointer_of(problem_of(f.http->post(path, R"({"user_id":")" + user + R"(","reason":"why"})", t.admin()),
                              422)) == "/reason");
  CHECK(pointer_of(problem_of(f.http->post(path, R"({"user_id":")" + user +
                                                     R"(","reason":"ticket 42: cannot rename","minutes":61})",
                                           t.admin()),
                              422)) == "/minutes");
  auto imp = f.http->post(path, R"({"user_id":")" + user + R"(","reason":"ticket 42: cannot rename","minutes":10})",
                          t.admin());
  CAPTURE(imp.body);
  REQUIRE(imp.status == 201);
  CHECK_FALSE(imp.json().as_object().contains("refresh_token"));
  const std::string access = str(imp.json().at("access_token"));
  // Acting as the user: the event records the user and the admin.
  REQUIRE(f.http->patch("/v1/organizations/" + org, R"({"name":"Renamed"})", Team::as(access, org)).status == 200);
  auto events = f.http->get("/v1/admin/streams/" + org + "/events", t.admin());
  REQUIRE(events.status == 200);
  const auto stream = events.json();
  const auto& last = stream.at("events").as_array().back().as_object();
  CHECK(str(last.at("type")) == "organization.renamed");
  CHECK(str(last.at("actor")) == user);
  CHECK(str(last.at("impersonator")) == "admin");
  // Sensitive account settings are not changed while impersonating.
  problem_of(f.http->post("/v1/me/totp", "", Team::as(access)), 403);
  problem_of(f.http->del("/v1/sessions", Team::as(access)), 403);
  // The user sees the impersonation, with its reason, in their sessions.
  auto own = f.http->get("/v1/sessions", Team::as(t.login("imp@example.com")));
  REQUIRE(own.status == 200);
  bool seen = false;
  const auto sessions = own.json();
  for (const auto& s : sessions.at("sessions").as_array())
    if (s.as_object().contains("impersonator")) {
      seen = true;
      CHECK(str(s.at("reason")) == "ticket 42: cannot rename");
      CHECK(str(s.at("method")) == "impersonation");
    }
  CHECK(seen);
  // Time-bounded: after ten minutes the token is dead (and it came with no refresh token).
  clock.advance_us(10LL * 60 * 1'000'000);
  problem_of(f.http->get("/v1/organizations/" + org + "/members", Team::as(access, org)), 401);
}

TEST_CASE("membership routes are tenant-scoped: another organization's owner, key or session is told nothing") {
  NodeFixture f;
  Team t(f);
  const std::string a_owner = f.signup("ta@example.com"), b_owner = f.signup("tb@example.com");
  const std::string a = t.org(a_owner, "tenant-a"), b = t.org(b_owner, "tenant-b");
  auto key = f.http->post("/v1/admin/organizations/" + b + "/api-keys", R"({"name":"k","role":"owner"})", t.admin());
  REQUIRE(key.status == 201);
  const std::string b_access = t.login("tb@example.com");
  const std::vector<Headers> others = {{{"Authorization", "Bearer " + str(key.json().at("token"))}},
                                       Team::as(b_access, b)};
  const std::string base = "/v1/organizations/" + a;
  const std::size_t a_events = t.events_of(a).size();
  for (const auto& h : others) {
    CHECK(f.http->get(base + "/members", h).status == 404);
    CHECK(t.invite(a, "x@example.com", "member", h).status == 404);
    CHECK(f.http->del(base + "/invitations/0123456789abcdef0123456789abcdef", h).status == 404);
    CHECK(f.http->put(base + "/members/" + a_owner + "/role", R"({"role":"member"})", h).status == 404);
    CHECK(f.http->del(base + "/members/" + a_owner, h).status == 404);
    CHECK(f.http->post(base + "/ownership-transfer", R"({"user_id":")" + b_owner + R"("})", h).status == 404);
  }
  // A session naming organization A, where it is no member, is refused.
  CHECK(f.http->get(base + "/members", Team::as(b_access, a)).status == 403);
  // Without credentials: 401.
  CHECK(f.http->get(base + "/members").status == 401);
  CHECK(t.invite(a, "x@example.com", "member", {}).status == 401);
  CHECK(t.events_of(a).size() == a_events);  // nothing written to A
  // Each refusal of an authenticated caller is recorded, in the caller's own
  // organization, with the actor and the route's name (never its path).
  const auto denied = t.events_of("access-denied-" + b);
  REQUIRE(denied.size() == 12);
  std::set<std::string> actors;
  for (const auto& e : denied) {
    CHECK(str(e.at("type")) == "access.denied");
    CHECK(e.at("data").at("status").as_int64() == 404);
    CHECK(str(e.at("data").at("route")).starts_with("organizations."));
    actors.insert(str(e.at("actor")));
  }
  CHECK(actors.size() == 2);  // the key and the user
  CHECK(actors.contains(b_owner));
  // A session naming an organization it is not in: recorded globally, by user.
  const auto global = t.events_of("access-denied-global");
  REQUIRE(global.size() == 1);
  CHECK(str(global[0].at("actor")) == b_owner);
  CHECK(global[0].at("data").at("status").as_int64() == 403);
  // Unauthenticated refusals are not recorded (anyone could fill the log with them).
  CHECK(t.events_of("access-denied-" + a).empty());
}

TEST_CASE("bad membership input is 422 with a pointer and writes nothing") {
  NodeFixture f;
  Team t(f);
  const auto [owner, org] = t.owned("o8@example.com", "team-h");
  const std::string path = "/v1/organizations/" + org + "/invitations";
  const std::string head = f.head();
  CHECK(pointer_of(problem_of(f.http->post(path, R"({"email":"not an address","role":"member"})", t.admin()), 422)) ==
        "/email");
  CHECK(pointer_of(problem_of(f.http->post(path, R"({"email":"a@example.com","role":"owner"})", t.admin()), 422)) ==
        "/role");
  CHECK(pointer_of(problem_of(f.http->post(path, R"({"email":"a@example.com","role":"member","x":1})", t.admin()),
                              422)) == "/x");
  CHECK(pointer_of(problem_of(f.http->post(path, R"({"email":7,"role":"member"})", t.admin()), 422)) == "/email");
  problem_of(f.http->post(path, R"({"email":"a@example.com")", t.admin()), 400);
  CHECK(pointer_of(problem_of(f.http->put("/v1/organizations/" + org + "/members/" + owner + "/role",
                                          R"({"role":"member","user_id":"user-00000000000000000000000000000000"})",
                                          t.admin()),
                              422)) == "/user_id");
  CHECK(pointer_of(problem_of(f.http->post("/v1/invitations/declination", R"({"token":1})"), 422)) == "/token");
  problem_of(f.http->request(boost::beast::http::verb::delete_, "/v1/organizations/" + org + "/members/" + owner,
                             R"({"left":true})", t.admin()),
             422);
  // An organization's name goes into mail subjects: no control characters.
  CHECK(pointer_of(problem_of(f.http->patch("/v1/organizations/" + org, R"({"name":"Acme\r\nBcc: x@example.com"})",
                                            t.admin()),
                              422)) == "/name");
  CHECK(f.head() == head);
}

TEST_CASE("invitations are rate-limited per organization: each sends a mail") {
  NodeFixture f;
  Team t(f);
  const auto [owner, org] = t.owned("o9@example.com", "team-i");
  for (int i = 0; i < 50; ++i) {
    auto inv = t.invite(org, "rl" + std::to_string(i) + "@example.com", "member", t.admin());
    REQUIRE(inv.status == 201);
    REQUIRE(f.http->del("/v1/organizations/" + org + "/invitations/" + str(inv.json().at("invitation_id")), t.admin())
                .status == 200);
  }
  auto more = problem_of(t.invite(org, "rl50@example.com", "member", t.admin()), 429);
  CHECK(more.contains("detail"));
  (void)owner;
}
