// `causeway gdpr|dsr|retention`: the operator's write commands, which act
// through a running server's admin API. A real server on a loopback port, the
// real binary as a child process.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <sstream>

#include "api/node_fixture.h"
#include "support/process.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;

namespace {

struct Cli : NodeFixture {
  // Runs `causeway <args>` against this server; returns (exit code, stdout+stderr).
  std::pair<int, std::string> run(const std::string& args) {
    const std::string common =
        " --server http://127.0.0.1:" + std::to_string(node->port()) + " --data-dir " + dir.str();
    return run_command(std::string(CAUSEWAY_BINARY) + " " + args + common + " 2>&1");
  }
  json::object reply(const std::string& args) {
    auto [code, out] = run(args);
    CAPTURE(out);
    REQUIRE(code == 0);
    return json::parse(out).as_object();
  }
};

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("the CLI places and releases holds, erases and exports a subject, fulfilling its requests") {
  Cli f;
  auto user = f.signup("cli.person@example.com");

  auto held = f.reply("gdpr hold " + user + " --reason 'litigation 9'");
  CHECK(held.at("hold_active") == true);
  auto [refused, why] = f.run("gdpr erase " + user + " --reason 'Art. 17'");
  CHECK(refused == 2);
  CHECK(contains(why, "409"));
  CHECK(contains(why, "litigation 9"));
  CHECK(f.reply("gdpr release " + user + " --reason closed").at("hold_active") == false);

  auto access = f.reply("dsr open --subject " + user + " --kind access --note 'by letter'");
  auto erasure = f.reply("dsr open --subject " + user + " --kind erasure");
  const std::string access_id(access.at("request_id").as_string());
  const std::string erasure_id(erasure.at("request_id").as_string());
  CHECK(f.reply("dsr extend " + access_id + " --days 30 --reason 'complex request'").at("extended") == true);

  const std::string bundle_file = f.dir / "bundle.json";
  auto [exported, msg] = f.run("gdpr export " + user + " --reason 'Art. 15' --request-id " + access_id + " -o " +
                               bundle_file);
  CAPTURE(msg);
  REQUIRE(exported == 0);
  std::ifstream in(bundle_file);
  std::stringstream ss;
  ss << in.rdbuf();
  auto bundle = json::parse(ss.str()).as_object();
  CHECK(bundle.at("subject") == json::value(user));
  CHECK(contains(ss.str(), "cli.person@example.com"));

  auto erased = f.reply("gdpr erase " + user + " --reason 'Art. 17' --request-id " + erasure_id);
  CHECK(erased.at("forgotten") == true);
  CHECK(erased.at("request_status") == "closed");
  auto [closed_again, answer] = f.run("dsr close " + access_id + " --outcome completed");
  CHECK(closed_again == 0);  // closing a closed request writes nothing
  CHECK(contains(answer, "closed"));
}

TEST_CASE("the CLI sets and removes retention policies and runs a sweep") {
  Cli f;
  auto set = f.reply("retention set all user --max-age-days 400 --reason 'account data, 400 days'");
  CHECK(set.at("max_age_days") == 400);
  auto sweep = f.reply("retention sweep");
  CHECK(sweep.at("enforced").as_array().empty());
  CHECK(f.reply("retention remove all user --reason superseded").at("max_age_days").is_null());
  auto [bad, out] = f.run("retention set all nosuch --max-age-days 5 --reason x");
  CHECK(bad == 2);
  CHECK(contains(out, "422"));
  CHECK(contains(out, "/category"));
}

TEST_CASE("the CLI reports a wrong token, an unreachable server and a missing token clearly") {
  Cli f;
  auto [code, out] = f.run("retention sweep --admin-token wrong");
  CHECK(code == 2);
  CHECK(contains(out, "401"));
  auto [down, msg] = run_command(std::string(CAUSEWAY_BINARY) +
                                 " retention sweep --server http://127.0.0.1:1 --admin-token x 2>&1");
  CHECK(down == 2);
  CHECK(contains(msg, "cannot reach the server"));
  auto [none, text] = run_command(std::string(CAUSEWAY_BINARY) + " retention sweep --data-dir " + (f.dir / "nothing") +
                                  " 2>&1");
  CHECK(none == 2);
  CHECK(contains(text, "no admin token"));
}
