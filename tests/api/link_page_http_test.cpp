// The pages mailed links open in a browser, on a real server on a random
// port: GET shows a form and spends nothing, the form's POST uses the link
// once, and the page says how it went.
#include <doctest/doctest.h>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "api/node_fixture.h"
#include "engine/commands/traits.h"
#include "support/mail_files.h"

using namespace causeway;
using namespace causeway::testing;
namespace http = boost::beast::http;

namespace {

const std::map<std::string, std::string> kBrowser = {
    {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}};

std::string form_encode(const std::string& v) { return boost::urls::encode(v, boost::urls::unreserved_chars); }

// The path of the link in the one mail to `to` about `what`.
std::string link_in(const NodeFixture& f, const std::string& to, const std::string& what) {
  const std::string token = token_of_mail(f.dir.str(), to, what);
  REQUIRE_FALSE(token.empty());
  return token;
}

HttpResult submit(NodeFixture& f, const std::string& page, const std::string& form) {
  return f.http->request(http::verb::post, "/v1/links/" + page, form, kBrowser, "application/x-www-form-urlencoded");
}

bool verified(NodeFixture& f, const std::string& user) {
  auto account = f.node->pipeline().aggregates().load<UserAggregate>(user);
  REQUIRE(account.ok());
  return account->state.email_verified;
}

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("a verification link opens a page whose one-click form confirms the address; GET spends nothing and a "
          "second POST says it was already confirmed") {
  NodeFixture f;
  const std::string user = f.signup("ann@example.com");
  const std::string token = link_in(f, "ann@example.com", "Confirm your email address");
  const std::string head = f.head();
  auto page = f.http->get("/v1/links/verify-email?token=" + token, kBrowser);
  REQUIRE(page.status == 200);
  CHECK(page.header("content-type") == "text/html; charset=utf-8");
  CHECK(has(page.body, R"(<form method="post" action="/v1/links/verify-email">)"));
  CHECK(has(page.body, R"(name="token" value=")" + token + "\""));
  CHECK(f.head() == head);  // opening the page wrote nothing
  CHECK_FALSE(verified(f, user));

  auto done = submit(f, "verify-email", "token=" + form_encode(token));
  CAPTURE(done.body);
  REQUIRE(done.status == 200);
  CHECK(done.header("content-type") == "text/html; charset=utf-8");
  CHECK(has(done.body, "Your email address is confirmed."));
  CHECK(verified(f, user));
  auto again = submit(f, "verify-email", "token=" + form_encode(token));
  CHECK(again.status == 200);
  CHECK(has(again.body, "This address was already confirmed."));
}

TEST_CASE("a reset link's page sets the new password through its form, once; the page of a used link says it "
          "cannot be used") {
  NodeFixture f;
  f.signup("bo@example.com");
  REQUIRE(f.http->post("/v1/password-resets", R"({"email":"bo@example.com"})").status == 202);
  const std::string token = link_in(f, "bo@example.com", "Reset your password");
  auto page = f.http->get("/v1/links/reset-password?token=" + token, kBrowser);
  REQUIRE(page.status == 200);
  CHECK(has(page.body, R"(name="new_password" type="password")"));
  auto done = submit(f, "reset-password", "token=" + form_encode(token) + "&new_password=a+new+long+password&otp=");
  CAPTURE(done.body);
  REQUIRE(done.status == 200);
  CHECK(has(done.body, "Your password is changed"));
  CHECK(f.http->post("/v1/sessions", R"({"email":"bo@example.com","password":"a new long password"})").status == 201);
  auto used = f.http->get("/v1/links/reset-password?token=" + token, kBrowser);
  CHECK(used.status == 200);
  CHECK(has(used.body, "This link cannot be used"));
  CHECK_FALSE(has(used.body, "<form"));
  auto twice = submit(f, "reset-password", "token=" + form_encode(token) + "&new_password=another+long+password");
  CHECK(twice.status == 401);
  CHECK(has(twice.body, "That did not work"));
}

TEST_CASE("a magic link's page signs in once and shows the session's tokens; a bad token's page is 404") {
  NodeFixture f;
  f.signup("cy@example.com");
  REQUIRE(f.http->post("/v1/magic-links", R"({"email":"cy@example.com"})").status == 202);
  const std::string token = link_in(f, "cy@example.com", "Your sign-in link");
  auto done = submit(f, "magic-link", "token=" + form_encode(token));
  CAPTURE(done.body);
  REQUIRE(done.status == 201);
  CHECK(has(done.body, "You are signed in."));
  CHECK(has(done.body, "access_token: <code>"));
  CHECK(submit(f, "magic-link", "token=" + form_encode(token)).status == 401);

  auto bad = f.http->get("/v1/links/magic-link?token=cwt_not-a-token", kBrowser);
  CHECK(bad.status == 404);
  CHECK(has(bad.body, "not a valid link"));
  // The same link for an API client is still JSON, and a form in another encoding is 415.
  CHECK(f.http->get("/v1/links/magic-link?token=" + token).header("content-type") == "application/json");
  CHECK(f.http->post("/v1/links/magic-link", R"({"token":"x"})").status == 415);
}
