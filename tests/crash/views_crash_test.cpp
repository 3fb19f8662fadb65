// Crash safety of the read side: SIGKILL the real server while commands flow
// and projections apply them; after a restart the views must equal a fresh
// replay of the log, with every event counted exactly once.
#include <doctest/doctest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <condition_variable>
#include <fstream>
#include <iterator>

#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "support/views_dump.h"

using namespace causeway::testing;
namespace json = boost::json;

namespace {

}  // namespace

TEST_CASE("views equal a fresh replay after kill -9 at any point, with every event applied once") {
  TempDir dir;
  std::string owner;
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    ServerProcess server(serve_args(dir.str()));
    if (owner.empty()) {
      HttpClient c(server.port());
      auto r = c.post("/v1/users", R"({"email":"owner@example.com","display_name":"O","password":"a long password"})");
      REQUIRE(r.status == 201);
      owner = std::string(r.json().at("user_id").as_string());
    }
    std::mutex mu;
    std::condition_variable cv;
    int acks = 0;
    std::vector<std::thread> clients;
    for (int t = 0; t < 6; ++t)
      clients.emplace_back([&, t] {
        HttpClient c(server.port());
        for (int n = 0;; ++n) {
          std::string slug = "r" + std::to_string(round) + "-c" + std::to_string(t) + "-n" + std::to_string(n);
          try {
            auto r = c.post("/v1/organizations",
                            R"({"slug":")" + slug + R"(","name":"Acme","owner_user_id":")" + owner + R"("})",
                            {{"Authorization", "Bearer " + admin_token_of(dir.str())}});
            if (r.status != 201) return;
          } catch (const std::exception&) {
            return;  // the server died mid-request
          }
          std::lock_guard lk(mu);
          ++acks;
          cv.notify_all();
        }
      });
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return acks >= 120 + 37 * round; });  // a different instant each round
    }
    server.kill9();
    for (auto& c : clients) c.join();
  }

  // Restart: the views catch up from their checkpoints.
  ServerProcess server(serve_args(dir.str()));
  HttpClient c(server.port());
  auto health = c.get("/healthz").json();
  const std::string head(health.at("position").as_string());
  auto caught_up = c.get("/v1/views/usage?limit=1&position=" + head, {{"Authorization", "Bearer " + admin_token_of(dir.str())}});
  REQUIRE(caught_up.status == 200);
  REQUIRE(server.terminate() == 0);

  const auto events = static_cast<std::int64_t>(std::stoull(head));
  CHECK(views_scalar(dir.str(), "SELECT count(*) FROM audit_index") == events);
  CHECK(views_scalar(dir.str(), "SELECT count(DISTINCT position) FROM audit_index") == events);
  CHECK(views_scalar(dir.str(), "SELECT max(position) FROM audit_index") == events);
  CHECK(views_scalar(dir.str(), "SELECT sum(count) FROM usage_meters WHERE metric = 'events'") == events);
  CHECK(views_scalar(dir.str(), "SELECT count(*) FROM organizations") == events - 1);

  const std::string live = dump_views(dir.str());
  auto [status, out] = run_command(std::string(CAUSEWAY_BINARY) + " projections rebuild --all --data-dir " + dir.str());
  CAPTURE(out);
  REQUIRE(status == 0);
  CHECK(dump_views(dir.str()) == live);
}

TEST_CASE("no plaintext personal data reaches the views files") {
  TempDir dir;
  {
    ServerProcess server(serve_args(dir.str()));
    HttpClient c(server.port());
    auto r = c.post("/v1/users",
                    R"({"email":"very-private-mail@example.com","display_name":"Zebulon Quux","password":"a long password"})");
    REQUIRE(r.status == 201);
    const std::string pos = r.header("causeway-position");
    auto seen = c.get("/v1/views/users?position=" + pos, {{"Authorization", "Bearer " + admin_token_of(dir.str())}});
    REQUIRE(seen.status == 200);
    CHECK(seen.body.find("very-private-mail@example.com") != std::string::npos);  // the API opens it
    REQUIRE(server.terminate() == 0);
  }
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / "views")) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CAPTURE(entry.path().string());
    CHECK(bytes.find("very-private-mail") == std::string::npos);
    CHECK(bytes.find("Zebulon") == std::string::npos);
  }
}
