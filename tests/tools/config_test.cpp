// Configuration precedence of `causeway serve` (flag, then environment, then
// file), and the command line's own surface: --version, --help, usage errors,
// config-file errors and exit codes (tools/README.md, "Exit codes").
#include <doctest/doctest.h>
#include <stdlib.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>

#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"

using namespace causeway::testing;

namespace {
// Starts the server with the given extra arguments and returns which of the
// candidate data folders it created.
std::string chosen_dir(const TempDir& t, std::vector<std::string> extra) {
  std::vector<std::string> args = {CAUSEWAY_BINARY, "--config", t / "causeway.toml", "serve", "--port", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  ServerProcess server(args);
  CHECK(server.terminate() == 0);
  for (const char* name : {"from-file", "from-env", "from-flag"})
    if (std::filesystem::exists(t / name + "/master.key")) return name;
  return "none";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Runs `causeway ARGS` to completion: (exit code, stdout and stderr). A serve
// that starts when it must not is stopped after a minute (exit 124).
std::pair<int, std::string> cli(const std::string& args) {
  return run_command("timeout 60 " + std::string(CAUSEWAY_BINARY) + " " + args + " 2>&1");
}
}  // namespace

TEST_CASE("a flag beats the environment, which beats the config file") {
  TempDir t;
  {
    std::ofstream f(t / "causeway.toml");
    f << "[serve]\ndata-dir = \"" << (t / "from-file") << "\"\n";
  }
  ::unsetenv("CAUSEWAY_DATA_DIR");
  CHECK(chosen_dir(t, {}) == "from-file");
  std::filesystem::remove_all(t / "from-file");

  ::setenv("CAUSEWAY_DATA_DIR", (t / "from-env").c_str(), 1);
  CHECK(chosen_dir(t, {}) == "from-env");
  std::filesystem::remove_all(t / "from-env");

  CHECK(chosen_dir(t, {"--data-dir", t / "from-flag"}) == "from-flag");
  ::unsetenv("CAUSEWAY_DATA_DIR");
}

TEST_CASE("server logs at debug level carry no personal data, passwords or tokens") {
  TempDir t;
  std::string output;
  {
    ServerProcess server({CAUSEWAY_BINARY, "serve", "--data-dir", t / "data", "--port", "0", "--log-level", "debug",
                          "--password-opslimit", "1", "--password-memlimit", "8192"});
    causeway::testing::HttpClient c(server.port());
    auto ok = c.post("/v1/users", R"({"email":"secret.person@example.com","display_name":"Zebulon Quux","password":"hunter2hunter2"})");
    REQUIRE(ok.status == 201);
    auto bad = c.post("/v1/users", R"({"email":"other.person@example.com","display_name":"Zebulon Quux","password":"tiny"})");
    REQUIRE(bad.status == 422);
    CHECK(server.terminate() == 0);
    output = server.output();
  }
  std::ifstream tok(t / "data/admin.token");
  std::string token;
  std::getline(tok, token);
  CHECK(output.find("\"request\"") != std::string::npos);  // the access log is there
  for (const std::string& secret : {std::string("secret.person"), std::string("other.person"),
                                    std::string("Zebulon"), std::string("hunter2"), std::string("tiny"), token})
    CHECK_MESSAGE(output.find(secret) == std::string::npos, secret);
}

TEST_CASE("causeway --version prints the project version and exits 0") {
  auto [rc, out] = cli("--version");
  CHECK(rc == 0);
  CHECK_MESSAGE(std::regex_match(out, std::regex("causeway [0-9]+\\.[0-9]+\\.[0-9]+\n")), out);
}

TEST_CASE("an unknown command is named in the error and exits with the usage code 2") {
  auto [rc, out] = cli("frobnicate");
  CHECK(rc == 2);
  CHECK_MESSAGE(contains(out, "causeway: unknown command 'frobnicate'; see causeway --help"), out);
  auto [sub, msg] = cli("log frobnicate");
  CHECK(sub == 2);
  CHECK_MESSAGE(contains(msg, "causeway: unknown command 'log frobnicate'; see causeway log --help"), msg);
  auto [none, text] = cli("");
  CHECK(none == 2);
  CHECK_MESSAGE(contains(text, "see causeway --help"), text);
}

TEST_CASE("bad option values and unknown options exit 2 with one line naming the option") {
  TempDir t;
  const std::string dir = " --data-dir " + (t / "data");
  for (auto [args, says] : {std::pair<std::string, std::string>{"serve --port notaport" + dir, "--port"},
                            {"serve --port 99999999999" + dir, "--port"},
                            {"serve --log-level loud" + dir, "--log-level"},
                            {"serve --no-such-flag" + dir, "--no-such-flag"},
                            {"log tail --last 0" + dir, "--last"},
                            {"query --format xml 'SELECT 1'" + dir, "--format"}}) {
    auto [rc, out] = cli(args);
    CAPTURE(args);
    CAPTURE(out);
    CHECK(rc == 2);
    CHECK(contains(out, "causeway: "));
    CHECK(contains(out, says));
  }
  CHECK_FALSE(std::filesystem::exists(t / "data"));  // no serve started
}

TEST_CASE("serve exits 2 when it cannot start: its port is taken, or a setting is bad") {
  TempDir t;
  ServerProcess running(serve_args(t / "first"));
  auto [taken, why] = cli("serve --data-dir " + (t / "second") + " --port " + std::to_string(running.port()) +
                          " --password-opslimit 1 --password-memlimit 8192");
  CAPTURE(why);
  CHECK(taken == 2);
  CHECK(contains(why, "cannot start"));
  auto [bad, msg] = cli("serve --data-dir " + (t / "third") + " --port 0 --admin-allow not-a-network");
  CAPTURE(msg);
  CHECK(bad == 2);
  CHECK(contains(msg, "--admin-allow"));
  CHECK(running.terminate() == 0);
}

TEST_CASE("an unknown key or section in the config file is an error naming it and the file") {
  TempDir t;
  const std::string file = t / "causeway.toml";
  const std::string serve = "--config " + file + " serve --port 0 --data-dir " + (t / "data");
  {
    std::ofstream f(file);
    f << "[serve]\nlog-level = \"info\"\nprot = 9090\n";
  }
  auto [rc, out] = cli(serve);
  CHECK(rc == 2);
  CHECK_MESSAGE(contains(out, file + ": unknown key 'prot' in section [serve]"), out);
  {
    std::ofstream f(file);
    f << "[srve]\nport = 9090\n";
  }
  auto [sec, msg] = cli(serve);
  CHECK(sec == 2);
  CHECK_MESSAGE(contains(msg, file + ": unknown section [srve]"), msg);
  CHECK_FALSE(std::filesystem::exists(t / "data"));  // refused before starting
}

TEST_CASE("serve --help names the environment variable of every option") {
  auto [rc, help] = cli("serve --help");
  CHECK(rc == 0);
  const std::regex flag("--([a-z0-9-]+)");
  int options = 0;
  for (auto it = std::sregex_iterator(help.begin(), help.end(), flag); it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1];
    if (name == "help") continue;
    std::string var = "CAUSEWAY_";
    for (char c : name) var += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK_MESSAGE(contains(help, "(env: " + var + ")"), name);
    ++options;
  }
  CHECK(options > 30);
  CHECK(contains(help, "(env: CAUSEWAY_DATA_DIR)"));
  CHECK(contains(help, "(env: CAUSEWAY_SMTP_PASSWORD)"));
}
