// Sessions over HTTP: login (argon2id), access and refresh tokens with
// rotation, reuse detection revoking the family, the user's session list with
// device information, revocation and logout, failed logins as events with a
// lockout, and the per-address rate limit.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "api/node_fixture.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

constexpr const char* kEmail = "sam.session@example.com";
constexpr const char* kPassword = "a long password";
constexpr std::int64_t kMinute = 60LL * 1'000'000;

struct Sessions {
  ManualClock clock;  // declared first: the node reads it until it stops
  NodeFixture f;
  std::string user;

  explicit Sessions(std::size_t per_minute = 1000)
      : f([per_minute](ServerConfig& cfg) { cfg.login_attempts_per_ip_per_minute = per_minute; }, &clock) {
    user = f.signup(kEmail);
  }

  HttpResult login(const std::string& email = kEmail, const std::string& password = kPassword,
                   std::map<std::string, std::string> h = {{"User-Agent", "TestBrowser/1.0"}}) {
    return f.http->post("/v1/sessions",
                        json::serialize(json::object{{"email", email}, {"password", password}}), std::move(h));
  }
  json::object logged_in() {
    auto r = login();
    REQUIRE(r.status == 201);
    return r.json().as_object();
  }
  HttpResult refresh(const std::string& token) {
    return f.http->post("/v1/sessions/refresh", json::serialize(json::object{{"refresh_token", token}}));
  }
  static std::map<std::string, std::string> bearer(const json::object& s) {
    return {{"Authorization", "Bearer " + std::string(s.at("access_token").as_string())}};
  }
  HttpResult list(const json::object& s) { return f.http->get("/v1/sessions", bearer(s)); }
  HttpResult del(const std::string& path, const json::object& s) {
    return f.http->request(http::verb::delete_, path, {}, bearer(s), {});
  }
};

}  // namespace

TEST_CASE("sessions: login returns tokens shown once, and the access token lists the sessions with their device") {
  Sessions t;
  auto s = t.logged_in();
  CHECK(str(s.at("user_id")) == t.user);
  CHECK(str(s.at("access_token")).starts_with("cwa_"));
  CHECK(str(s.at("refresh_token")).starts_with("cwr_"));
  auto other = t.logged_in();

  auto r = t.list(s);
  REQUIRE(r.status == 200);
  auto sessions = r.json().at("sessions").as_array();
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[0].at("session_id") == other.at("session_id"));  // newest first
  CHECK(sessions[1].at("current") == true);
  CHECK(str(sessions[1].at("user_agent")) == "TestBrowser/1.0");
  CHECK(str(sessions[1].at("ip")) == "127.0.0.1");
  // Neither token is in the log: only hashes are.
  auto events = t.f.http->get("/v1/admin/streams/" + str(s.at("session_id")) + "/events",
                              {{"Authorization", "Bearer " + t.f.node->admin_token()}});
  REQUIRE(events.status == 200);
  CHECK(events.body.find(str(s.at("access_token")).substr(37)) == std::string::npos);
  CHECK(events.body.find(str(s.at("refresh_token")).substr(37)) == std::string::npos);

  problem_of(t.f.http->get("/v1/sessions"), 401);
  problem_of(t.f.http->get("/v1/sessions", {{"Authorization", "Bearer cwa_0_0"}}), 401);
  problem_of(t.login(kEmail, kPassword, {{"Idempotency-Key", "k1"}}), 400);
}

TEST_CASE("sessions: a wrong password and an unknown email get the same 401, and failures are recorded") {
  Sessions t;
  auto wrong = t.login(kEmail, "not the password");
  auto unknown = t.login("nobody@example.com", kPassword);
  CHECK(problem_of(wrong, 401).at("detail") == problem_of(unknown, 401).at("detail"));
  auto stream = t.f.http->get("/v1/admin/streams/" + t.user + "/events",
                              {{"Authorization", "Bearer " + t.f.node->admin_token()}});
  REQUIRE(stream.status == 200);
  CHECK(stream.body.find("user.login_failed") != std::string::npos);
  // Login is case- and space-insensitive in the email, like signup.
  CHECK(t.login("  SAM.Session@Example.com ").status == 201);
  CHECK(pointer_of(problem_of(t.login("", kPassword), 422)) == "/email");
  CHECK(pointer_of(problem_of(t.f.http->post("/v1/sessions", R"({"email":"a@b.c","password":"x","otp":1})"), 422)) ==
        "/otp");
  CHECK(pointer_of(problem_of(t.f.http->post("/v1/sessions", R"({"email":"a@b.c","password":7})"), 422)) ==
        "/password");
}

TEST_CASE("sessions: five failed logins in 15 minutes lock the account, with Retry-After, until the window passes") {
  Sessions t;
  for (int i = 0; i < 5; ++i) CHECK(t.login(kEmail, "wrong " + std::to_string(i)).status == 401);
  auto locked = t.login();
  problem_of(locked, 429);
  const int retry = std::stoi(locked.header("retry-after"));
  CHECK(retry > 0);
  CHECK(retry <= 15 * 60);
  t.clock.advance_us(15 * kMinute + 1'000'000);
  CHECK(t.login().status == 201);
}

TEST_CASE("sessions: refresh rotates both tokens, and a reused refresh token revokes the whole session") {
  Sessions t;
  auto s = t.logged_in();
  auto r1 = t.refresh(str(s.at("refresh_token")));
  REQUIRE(r1.status == 200);
  auto rotated = r1.json().as_object();
  CHECK(rotated.at("session_id") == s.at("session_id"));
  CHECK(rotated.at("refresh_token") != s.at("refresh_token"));
  CHECK(t.list(rotated).status == 200);
  CHECK(t.list(s).status == 401);  // the old access token was replaced

  // The first refresh token again: reuse. The session (every token of it) is revoked.
  auto reuse = t.refresh(str(s.at("refresh_token")));
  CHECK(str(problem_of(reuse, 401).at("detail")).find("already used") != std::string::npos);
  CHECK(t.list(rotated).status == 401);
  CHECK(t.refresh(str(rotated.at("refresh_token"))).status == 401);
  auto events = t.f.http->get("/v1/admin/streams/" + str(s.at("session_id")) + "/events",
                              {{"Authorization", "Bearer " + t.f.node->admin_token()}});
  CHECK(events.body.find("session.refresh_reused") != std::string::npos);
  CHECK(events.body.find("refresh_reuse") != std::string::npos);

  problem_of(t.refresh("cwr_" + std::string(32, '0') + "_" + std::string(64, '0')), 401);
  problem_of(t.refresh("not a token"), 401);
}

TEST_CASE("sessions: access tokens expire, refresh tokens outlive them, and refresh tokens expire too") {
  Sessions t;
  auto s = t.logged_in();
  t.clock.advance_us(16 * kMinute);
  CHECK(t.list(s).status == 401);
  auto r = t.refresh(str(s.at("refresh_token")));
  REQUIRE(r.status == 200);
  CHECK(t.list(r.json().as_object()).status == 200);
  t.clock.advance_us(31LL * 24 * 60 * kMinute);
  CHECK(t.refresh(str(r.json().at("refresh_token").as_string())).status == 401);
}

TEST_CASE("sessions: logout, revoking another session, and revoking all; nobody revokes another user's session") {
  Sessions t;
  auto a = t.logged_in();
  auto b = t.logged_in();
  auto c = t.logged_in();
  auto r = t.del("/v1/sessions/" + str(b.at("session_id")), a);
  REQUIRE(r.status == 200);
  CHECK(t.list(b).status == 401);
  CHECK(t.list(a).status == 200);
  REQUIRE(t.del("/v1/sessions/current", c).status == 200);
  CHECK(t.list(c).status == 401);
  auto listed = t.list(a).json().at("sessions").as_array();
  for (auto& s : listed) {
    if (s.at("session_id") == c.at("session_id")) CHECK(s.at("revoke_reason") == "logout");
    if (s.at("session_id") == b.at("session_id")) CHECK(s.at("revoke_reason") == "revoked");
  }

  auto other_user = t.f.signup("someone.else@example.com");
  auto theirs = t.f.http->post("/v1/sessions", R"({"email":"someone.else@example.com","password":"a long password"})");
  REQUIRE(theirs.status == 201);
  problem_of(t.del("/v1/sessions/" + str(theirs.json().at("session_id")), a), 404);
  CHECK(t.list(theirs.json().as_object()).status == 200);
  CHECK(str(theirs.json().at("user_id")) == other_user);

  auto all = t.del("/v1/sessions", a);
  REQUIRE(all.status == 200);
  CHECK(t.list(a).status == 401);
  CHECK(t.list(theirs.json().as_object()).status == 200);
}

TEST_CASE("sessions: login and refresh attempts per address are limited, with Retry-After") {
  Sessions t(3);
  for (int i = 0; i < 3; ++i) CHECK(t.login(kEmail, "wrong").status == 401);
  auto limited = t.login();
  problem_of(limited, 429);
  CHECK(std::stoi(limited.header("retry-after")) <= 60);
  t.clock.advance_us(kMinute);
  CHECK(t.login().status == 201);
}

TEST_CASE("sessions: an unknown email locks like a known one, so a 429 tells nothing about accounts") {
  Sessions t;
  for (int i = 0; i < 5; ++i) {
    CHECK(t.login(kEmail, "wrong").status == 401);
    CHECK(t.login("nobody@example.com", "wrong").status == 401);
  }
  auto known = t.login(kEmail, "wrong");
  auto unknown = t.login("nobody@example.com", "wrong");
  CHECK(problem_of(known, 429).at("detail") == problem_of(unknown, 429).at("detail"));
}

TEST_CASE("sessions: a password change locks an unknown email like a known one, so its 429 tells nothing either") {
  Sessions t;
  auto change = [&](const std::string& email) {
    return t.f.http->post("/v1/users/password",
                          json::serialize(json::object{{"email", email},
                                                       {"current_password", "wrong guess here"},
                                                       {"new_password", "a brand new passphrase"}}));
  };
  for (int i = 0; i < 5; ++i) {
    CHECK(change(kEmail).status == 401);
    CHECK(change("nobody@example.com").status == 401);
  }
  auto known = change(kEmail);
  auto unknown = change("nobody@example.com");
  CHECK(problem_of(known, 429).at("detail") == problem_of(unknown, 429).at("detail"));
  CHECK(known.header("retry-after").empty() == unknown.header("retry-after").empty());
}

TEST_CASE("sessions: erasing a user revokes their live sessions") {
  Sessions t;
  auto s = t.logged_in();
  auto r = t.f.http->post("/v1/admin/subjects/" + t.user + "/erasure", R"({"reason":"Art. 17"})",
                          {{"Authorization", "Bearer " + t.f.node->admin_token()}});
  REQUIRE(r.status == 200);
  CHECK(t.list(s).status == 401);
  CHECK(t.refresh(str(s.at("refresh_token"))).status == 401);
  auto events = t.f.http->get("/v1/admin/streams/" + str(s.at("session_id")) + "/events",
                              {{"Authorization", "Bearer " + t.f.node->admin_token()}});
  CHECK(events.body.find(R"("reason":"erasure")") != std::string::npos);
  // The personal fields of the session (device) read [erased].
  CHECK(events.body.find("TestBrowser") == std::string::npos);
  CHECK(t.login().status == 401);  // no password left to check
}

TEST_CASE("sessions: changing the password needs the current one, refuses the last five, and ends every session") {
  Sessions t;
  auto s = t.logged_in();
  auto change = [&](const std::string& current, const std::string& next) {
    return t.f.http->post("/v1/users/password",
                          json::serialize(json::object{
                              {"email", kEmail}, {"current_password", current}, {"new_password", next}}));
  };
  problem_of(change("not the password", "a brand new passphrase"), 401);
  CHECK(pointer_of(problem_of(change(kPassword, kPassword), 422)) == "/new_password");  // history: the current one
  CHECK(str(problem_of(change(kPassword, "aaaaaaaaaaaaaaaa"), 422).at("detail")).find("\"distinct\"") !=
        std::string::npos);
  auto ok = change(kPassword, "a brand new passphrase");
  REQUIRE(ok.status == 200);
  CHECK(ok.json().at("revoked_sessions").as_array().size() == 1);
  CHECK(t.list(s).status == 401);
  problem_of(t.login(), 401);  // the old password is gone
  CHECK(t.login(kEmail, "a brand new passphrase").status == 201);
  // Back to the first password: refused by the history rule.
  auto back = change("a brand new passphrase", kPassword);
  CHECK(str(problem_of(back, 422).at("detail")).find("\"history\"") != std::string::npos);
  CHECK(pointer_of(problem_of(t.f.http->post("/v1/users/password", R"({"email":"x@y.z","current_password":"a"})"),
                              422)) == "/new_password");
}

TEST_CASE("sessions: with a maximum password age, login refuses an old password until it is changed") {
  ManualClock clock;
  NodeFixture f([](ServerConfig& cfg) { cfg.password_max_age_days = 90; }, &clock);
  f.signup(kEmail);
  auto login = [&](const std::string& pw) {
    return f.http->post("/v1/sessions", json::serialize(json::object{{"email", kEmail}, {"password", pw}}));
  };
  CHECK(login(kPassword).status == 201);
  clock.advance_us(91LL * 24 * 60 * kMinute);
  CHECK(str(problem_of(login(kPassword), 403).at("detail")).find("expired") != std::string::npos);
  auto changed = f.http->post("/v1/users/password",
                              json::serialize(json::object{{"email", kEmail},
                                                           {"current_password", kPassword},
                                                           {"new_password", "a fresh long passphrase"}}));
  REQUIRE(changed.status == 200);
  CHECK(login("a fresh long passphrase").status == 201);
}
