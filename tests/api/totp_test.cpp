// TOTP two-factor over HTTP: enrollment with an otpauth:// URI, confirmation
// with a code, logins that need a code (each good once) or a backup code
// (each good once), and turning it off with a code.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "api/node_fixture.h"
#include "engine/totp.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

constexpr const char* kEmail = "tess.totp@example.com";
constexpr std::int64_t kStepUs = totp::kStepSeconds * 1'000'000;

struct TwoFactor {
  ManualClock clock;  // declared first: the node reads it until it stops
  NodeFixture f{[](ServerConfig&) {}, &clock};
  std::string user = f.signup(kEmail);

  HttpResult login(json::object extra = {}) {
    json::object body{{"email", kEmail}, {"password", "a long password"}};
    for (auto& [k, v] : extra) body[k] = v;
    return f.http->post("/v1/sessions", json::serialize(body));
  }
  std::map<std::string, std::string> bearer() {
    auto r = login();
    REQUIRE(r.status == 201);
    return {{"Authorization", "Bearer " + std::string(r.json().at("access_token").as_string())}};
  }
};

}  // namespace

TEST_CASE("totp: enroll, confirm with a code, then logins need a fresh code or a backup code, each once") {
  TwoFactor t;
  auto auth = t.bearer();
  auto enrolled = t.f.http->post("/v1/me/totp", "{}", auth);
  REQUIRE(enrolled.status == 200);
  const auto secret = totp::from_base32(str(enrolled.json().at("secret")));
  REQUIRE(secret);
  CHECK(str(enrolled.json().at("otpauth_uri")).starts_with("otpauth://totp/Causeway:" + t.user + "?secret="));
  // Enrolled but not confirmed: the password still suffices.
  CHECK(t.login().status == 201);

  const auto code = [&] { return totp::code_at(*secret, totp::step_of(t.clock.now_us())); };
  auto wrong = t.f.http->post("/v1/me/totp/confirmation", R"({"otp":"000000"})", auth);
  if (code() != "000000") CHECK(pointer_of(problem_of(wrong, 422)) == "/otp");
  auto on = t.f.http->post("/v1/me/totp/confirmation", R"({"otp":")" + code() + R"("})", auth);
  REQUIRE(on.status == 200);
  CHECK(on.json().at("totp_enabled") == true);
  auto backup = on.json().at("backup_codes").as_array();
  REQUIRE(backup.size() == 10);

  // The secret and the backup codes are never in the log in the clear.
  auto events = t.f.http->get("/v1/admin/streams/" + t.user + "/events",
                              {{"Authorization", "Bearer " + t.f.node->admin_token()}});
  CHECK(events.body.find(str(enrolled.json().at("secret"))) == std::string::npos);
  CHECK(events.body.find(str(backup[0])) == std::string::npos);

  CHECK(str(problem_of(t.login(), 401).at("detail")).find("one-time code is required") != std::string::npos);
  t.clock.advance_us(kStepUs);  // the confirming code's step is spent
  const std::string now_code = code();
  CHECK(t.login({{"otp", now_code}}).status == 201);
  problem_of(t.login({{"otp", now_code}}), 401);  // the same code twice: refused
  t.clock.advance_us(kStepUs);
  CHECK(t.login({{"otp", code()}}).status == 201);

  CHECK(t.login({{"backup_code", backup[3]}}).status == 201);
  problem_of(t.login({{"backup_code", backup[3]}}), 401);  // each backup code once
  problem_of(t.login({{"backup_code", "0123456789abcdef"}}), 401);
  problem_of(t.login({{"backup_code", "0123456789"}}), 401);  // malformed: just a wrong code
  CHECK(pointer_of(problem_of(t.login({{"otp", code()}, {"backup_code", backup[4]}}), 422)) == "/backup_code");
  auto stream = t.f.http->get("/v1/admin/streams/" + t.user + "/events",
                              {{"Authorization", "Bearer " + t.f.node->admin_token()}});
  CHECK(stream.body.find("user.second_factor_used") != std::string::npos);
  CHECK(stream.body.find("user.login_failed") != std::string::npos);  // wrong codes are failed logins
}

TEST_CASE("totp: turning it off needs a code, and afterwards the password suffices again") {
  TwoFactor t;
  auto auth = t.bearer();
  auto enrolled = t.f.http->post("/v1/me/totp", "{}", auth);
  const auto secret = *totp::from_base32(str(enrolled.json().at("secret")));
  const auto code = [&] { return totp::code_at(secret, totp::step_of(t.clock.now_us())); };
  REQUIRE(t.f.http->post("/v1/me/totp/confirmation", R"({"otp":")" + code() + R"("})", auth).status == 200);
  problem_of(t.f.http->post("/v1/me/totp", "{}", auth), 409);  // already on
  auto no_code = t.f.http->request(http::verb::delete_, "/v1/me/totp", "{}", auth);
  problem_of(no_code, 422);
  t.clock.advance_us(kStepUs);
  auto off = t.f.http->request(http::verb::delete_, "/v1/me/totp", R"({"otp":")" + code() + R"("})", auth);
  REQUIRE(off.status == 200);
  CHECK(off.json().at("totp_enabled") == false);
  CHECK(t.login().status == 201);
  problem_of(t.f.http->post("/v1/me/totp", "{}"), 401);  // no access token
  problem_of(t.f.http->post("/v1/me/totp", "{}", {{"Authorization", auth.at("Authorization")},
                                                  {"Idempotency-Key", "again"}}),
             400);
}

TEST_CASE("another method on a two-factor route is 405 with the methods it takes in Allow") {
  NodeFixture f;
  for (const auto& [path, allow] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/me/totp", "POST, DELETE"}, {"/v1/me/totp/confirmation", "POST"}}) {
    CAPTURE(path);
    for (const auto verb : {http::verb::get, http::verb::put, http::verb::trace}) {
      auto r = f.http->request(verb, path, {}, {}, {});
      CHECK(r.status == 405);
      CHECK(r.header("allow") == allow);
    }
  }
}
