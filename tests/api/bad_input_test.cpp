// Bad input: every malformed request gets a clear 4xx problem and writes nothing.
#include <doctest/doctest.h>

#include "api/node_fixture.h"

using namespace causeway;
using namespace causeway::testing;

namespace {
const std::string kValid = R"({"email":"a@b.co","display_name":"A","password":"a long password"})";
}

TEST_CASE("malformed JSON is a 400 problem and writes nothing") {
  NodeFixture f;
  for (const char* body : {"{", R"({"email":})", "not json", R"({"a":1,})", ""}) {
    CAPTURE(body);
    problem_of(f.http->post("/v1/users", body), 400);
  }
  CHECK(f.head() == "0");
}

TEST_CASE("invalid UTF-8 is a 400 problem naming the encoding and writes nothing") {
  NodeFixture f;
  std::string body = R"({"email":"a@b.co","display_name":"A)";
  body += "\xC3\x28";  // invalid two-byte sequence
  body += R"(","password":"a long password"})";
  auto p = problem_of(f.http->post("/v1/users", body), 400);
  CHECK(std::string(p.at("detail").as_string()).find("UTF-8") != std::string::npos);
  CHECK(f.head() == "0");
}

TEST_CASE("nesting deeper than the limit is a 400 problem and writes nothing") {
  NodeFixture f;
  std::string deep = R"({"email":)" + std::string(100, '[') + std::string(100, ']') + "}";
  auto p = problem_of(f.http->post("/v1/users", deep), 400);
  CHECK(std::string(p.at("detail").as_string()).find("deeper") != std::string::npos);
  CHECK(f.head() == "0");
}

TEST_CASE("a body over the limit is a 413 problem and writes nothing") {
  NodeFixture f(1024);
  std::string big = R"({"email":"a@b.co","display_name":")" + std::string(4096, 'x') + R"(","password":"a long password"})";
  problem_of(f.http->post("/v1/users", big), 413);
  CHECK(f.head() == "0");
  // The server stays healthy for the next client.
  HttpClient fresh(f.node->port());
  CHECK(fresh.post("/v1/users", kValid).status == 201);
}

TEST_CASE("a wrong type is a 422 problem pointing at the field") {
  NodeFixture f;
  auto p = problem_of(f.http->post("/v1/users", R"({"email":["a@b.co"],"display_name":"A","password":"a long password"})"), 422);
  CHECK(pointer_of(p) == "/email");
  p = problem_of(f.http->post("/v1/users", R"({"email":"a@b.co","display_name":7,"password":"a long password"})"), 422);
  CHECK(pointer_of(p) == "/display_name");
  CHECK(f.head() == "0");
}

TEST_CASE("an unknown field is a 422 problem pointing at it") {
  NodeFixture f;
  auto p = problem_of(
      f.http->post("/v1/users", R"({"email":"a@b.co","display_name":"A","password":"a long password","role":"admin"})"), 422);
  CHECK(pointer_of(p) == "/role");
  CHECK(f.head() == "0");
}

TEST_CASE("a missing field points at itself, an unknown one suggests the close name, a pattern is said in words") {
  NodeFixture f;
  auto missing = problem_of(f.http->post("/v1/users", R"({"email":"a@b.co","password":"a long password"})"), 422);
  CHECK(pointer_of(missing) == "/display_name");
  CHECK(str(missing.at("errors").as_array()[0].at("detail")).find("display_name is required") != std::string::npos);
  auto typo = problem_of(
      f.http->post("/v1/users", R"({"email":"a@b.co","dispaly_name":"A","password":"a long password"})"), 422);
  bool suggested = false;
  for (const auto& e : typo.at("errors").as_array())
    suggested = suggested || (str(e.at("pointer")) == "/dispaly_name" &&
                              str(e.at("detail")).find("did you mean 'display_name'") != std::string::npos);
  CHECK(suggested);
  auto pattern = problem_of(f.http->post("/v1/organizations", R"({"slug":"acme","name":"Acme","owner_user_id":"bob"})",
                                         {{"Authorization", "Bearer " + f.node->admin_token()}}),
                            422);
  CHECK(pointer_of(pattern) == "/owner_user_id");
  CHECK(str(pattern.at("errors").as_array()[0].at("detail")).find("a user id: user- and 32 lowercase hex digits") !=
        std::string::npos);
  CHECK(f.head() == "0");
}

TEST_CASE("a missing field, a short password and a bad email are 422 problems") {
  NodeFixture f;
  problem_of(f.http->post("/v1/users", R"({"email":"a@b.co","display_name":"A"})"), 422);
  auto p = problem_of(f.http->post("/v1/users", R"({"email":"a@b.co","display_name":"A","password":"short"})"), 422);
  CHECK(pointer_of(p) == "/password");
  p = problem_of(f.http->post("/v1/users", R"({"email":"not-an-email","display_name":"A","password":"a long password"})"), 422);
  CHECK(pointer_of(p) == "/email");
  CHECK(f.head() == "0");
}

TEST_CASE("a password breaking a policy rule is a 422 on /password naming the rule, and nothing is written") {
  NodeFixture f;
  struct Case {
    const char* password;
    const char* rule;
  };
  for (auto [password, rule] : {Case{"aaaaaaaaaaaaaaaa", "\"distinct\""}, Case{"abababababababab", "\"distinct\""},
                                Case{"x-ottoline.v-2026", "\"personal\""}, Case{"my Quintessa pw!", "\"personal\""},
                                Case{"Password1234", "\"common\""}, Case{"QWERTYUIOPAS", "\"common\""}}) {
    CAPTURE(password);
    auto p = problem_of(f.http->post("/v1/users", std::string(R"({"email":"ottoline.v@example.com","display_name":"Quintessa","password":")") +
                                                      password + R"("})"),
                        422);
    CHECK(pointer_of(p) == "/password");
    CHECK(std::string(p.at("detail").as_string()).find(rule) != std::string::npos);
  }
  CHECK(f.head() == "0");
  CHECK(f.http->post("/v1/users", R"({"email":"ottoline.v@example.com","display_name":"Quintessa","password":"tin roof rusted 7"})")
            .status == 201);
}

TEST_CASE("a body that is not an object is a 422 problem") {
  NodeFixture f;
  problem_of(f.http->post("/v1/users", "[1,2]"), 422);
  problem_of(f.http->post("/v1/users", "\"text\""), 422);
  CHECK(f.head() == "0");
}

TEST_CASE("a non-JSON content type is a 415 problem") {
  NodeFixture f;
  auto r = f.http->request(boost::beast::http::verb::post, "/v1/users", kValid, {}, "text/plain");
  problem_of(r, 415);
  CHECK(f.head() == "0");
}

TEST_CASE("malformed Idempotency-Key and If-Match headers are 400 problems") {
  NodeFixture f;
  problem_of(f.http->post("/v1/users", kValid, {{"Idempotency-Key", std::string(300, 'k')}}), 400);
  auto r = f.http->request(boost::beast::http::verb::patch, "/v1/organizations/org-0123456789abcdef0123456789abcdef",
                           R"({"name":"x"})",
                           {{"If-Match", "W/\"abc\""}, {"Authorization", "Bearer " + f.node->admin_token()}});
  problem_of(r, 400);
  CHECK(f.head() == "0");
}

TEST_CASE("garbage on the wire gets a 400 and the connection is closed") {
  NodeFixture f;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), f.node->port()});
  std::string junk = "THIS IS NOT HTTP\r\n\r\n";
  boost::asio::write(s, boost::asio::buffer(junk));
  std::string reply;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    auto n = s.read_some(boost::asio::buffer(buf), ec);
    reply.append(buf, n);
    if (ec) break;
  }
  CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(f.head() == "0");
}
