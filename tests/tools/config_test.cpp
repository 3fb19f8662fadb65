// Configuration precedence of `causeway serve`: flag, then environment, then file.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

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
