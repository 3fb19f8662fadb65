// `causeway gdpr|dsr|retention`: the operator's write commands, which act
// through a running server's admin API; and what every command does beside a
// running server (refusals in words, JSON lines) or on its log (`log tail`).
// A real server on a loopback port, the real binary as a child process.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <filesystem>
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

// `causeway ARGS` (append " 2>&1" for stderr too): (exit code, stdout).
std::pair<int, std::string> run_causeway(const std::string& args) {
  return run_command(std::string(CAUSEWAY_BINARY) + " " + args);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> last_of(const std::vector<std::string>& v, std::size_t n) {
  return std::vector<std::string>(v.end() - static_cast<std::ptrdiff_t>(std::min(n, v.size())), v.end());
}

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

TEST_CASE("log tail --last N prints the last N matching events; --from, --type, --limit and -f apply with it") {
  Cli f;
  for (const char* who : {"one@example.com", "two@example.com", "three@example.com"}) f.signup(who);
  f.node.reset();  // a log that no longer moves
  const std::string tail = "log tail --data-dir " + f.dir.str();
  const auto all = lines_of(run_causeway(tail).second);
  REQUIRE(all.size() >= 3);

  auto [rc, two] = run_causeway(tail + " --last 2");
  CHECK(rc == 0);
  CHECK(lines_of(two) == last_of(all, 2));
  CHECK(lines_of(run_causeway(tail + " --last 1000000").second) == all);
  CHECK(lines_of(run_causeway(tail + " --last 2 --limit 1").second) == std::vector<std::string>{all[all.size() - 2]});

  std::vector<std::string> signups;
  for (const auto& l : all)
    if (contains(l, "\"type\":\"user.signed_up\"")) signups.push_back(l);
  REQUIRE(signups.size() >= 2);
  CHECK(lines_of(run_causeway(tail + " --type user.signed_up --last 2").second) == last_of(signups, 2));

  // --from bounds the window: nothing before it, however large N is.
  const auto from = json::parse(all[all.size() - 2]).as_object().at("position").to_number<std::uint64_t>();
  CHECK(lines_of(run_causeway(tail + " --from " + std::to_string(from) + " --last 100").second) == last_of(all, 2));

  // -f: the last N, then it keeps following (until `timeout` stops it).
  auto [followed, out] = run_command("timeout 2 " + std::string(CAUSEWAY_BINARY) + " " + tail + " --last 1 -f");
  CHECK(followed == 124);
  CHECK(lines_of(out) == last_of(all, 1));

  auto [zero, msg] = run_causeway(tail + " --last 0 2>&1");
  CHECK(zero == 2);
  CHECK(contains(msg, "--last"));
}

TEST_CASE("commands that need a data folder a server holds say so in words, exit 2 and touch nothing") {
  Cli f;
  f.signup("busy@example.com");
  const std::string dir = f.dir.str();
  const std::string in_use =
      dir + " is in use by a running server (" + dir + "/log/LOCK); stop it first or use the HTTP API";
  TempDir out;
  for (const std::string& args : {"backup --to " + (out / "b"), "audit export --reason check -o " + (out / "x.jsonl"),
                                  std::string("projections rebuild --all")}) {
    auto [rc, text] = run_causeway(args + " --data-dir " + dir + " 2>&1");
    CAPTURE(args);
    CAPTURE(text);
    CHECK(rc == 2);
    CHECK(contains(text, in_use));
    CHECK_FALSE(contains(text, "While lock file"));
  }
  CHECK(contains(run_causeway("backup --to " + (out / "b") + " --data-dir " + dir + " 2>&1").second, "/v1/admin/backups"));
  CHECK_FALSE(std::filesystem::exists(out / "b"));
  CHECK_FALSE(std::filesystem::exists(out / "x.jsonl"));
  // RocksDB was not even opened (that renames its info LOG to LOG.old.*).
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/log"))
    CHECK_MESSAGE(entry.path().filename().string().rfind("LOG.old", 0) != 0, entry.path().string());
  // Reading stays safe while it serves.
  auto [verified, report] = run_causeway("log verify --data-dir " + dir + " 2>&1");
  CAPTURE(report);
  CHECK(verified == 0);
}

TEST_CASE("every command that prints JSON ends its output with exactly one newline") {
  Cli f;
  const auto user = f.signup("lines@example.com");
  const std::string data = " --data-dir " + f.dir.str();
  std::vector<std::string> outputs;
  for (const char* args : {"log stats", "log verify", "log tail --last 1", "projections status"})
    outputs.push_back(run_causeway(args + data).second);
  outputs.push_back(f.run("retention sweep").second);
  outputs.push_back(f.run("dsr open --subject " + user + " --kind access").second);
  const std::string file = f.dir / "bundle.json";
  REQUIRE(f.run("gdpr export " + user + " --reason check -o " + file).first == 0);
  std::ifstream in(file);
  std::stringstream bundle;
  bundle << in.rdbuf();
  outputs.push_back(bundle.str());
  for (const auto& text : outputs) {
    CAPTURE(text);
    REQUIRE(text.size() >= 2);
    CHECK(text.back() == '\n');
    CHECK(text[text.size() - 2] != '\n');
  }
}
