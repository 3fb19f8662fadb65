// Crash safety: SIGKILL the real server while commands are in flight, restart
// it, and prove that every acknowledged command is present exactly once, that
// retries with the same Idempotency-Key never duplicate, and that the hash
// chain and aggregate state verify.
#include <doctest/doctest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <map>
#include <set>

#include <rocksdb/db.h>

#include "events/rocks/keys.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"

using namespace causeway::testing;
namespace json = boost::json;

namespace {

std::string org_body(const std::string& owner, const std::string& slug) {
  return R"({"slug":")" + slug + R"(","name":"Acme","owner_user_id":")" + owner + R"("})";
}

json::object log_stats(const TempDir& dir) {
  auto [status, out] = run_command(std::string(CAUSEWAY_BINARY) + " log stats --data-dir " + dir.str());
  REQUIRE(status == 0);
  return json::parse(out).as_object();
}

std::uint64_t count_of(const json::object& stats, const char* type) {
  auto* t = stats.at("types").as_object().if_contains(type);
  return t ? t->to_number<std::uint64_t>() : 0;
}

}  // namespace

TEST_CASE("kill -9 during a stream of commands loses and duplicates nothing acknowledged") {
  TempDir dir;
  std::string owner;
  std::mutex mu;
  std::map<std::string, std::string> acked;  // idempotency key -> org id
  std::set<std::string> attempted;

  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    ServerProcess server(serve_args(dir.str()));
    if (owner.empty()) {
      HttpClient c(server.port());
      auto r = c.post("/v1/users", R"({"email":"owner@example.com","display_name":"O","password":"a long password"})");
      REQUIRE(r.status == 201);
      owner = std::string(r.json().at("user_id").as_string());
    }
    std::atomic<int> acks_this_round{0};
    std::condition_variable cv;
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t)
      clients.emplace_back([&, t] {
        HttpClient c(server.port());
        for (int n = 0;; ++n) {
          std::string key = "r" + std::to_string(round) + "-c" + std::to_string(t) + "-n" + std::to_string(n);
          {
            std::lock_guard lk(mu);
            attempted.insert(key);
          }
          try {
            auto r = c.post("/v1/organizations", org_body(owner, "s-" + key),
                                {{"Idempotency-Key", key}, {"Authorization", "Bearer " + admin_token_of(dir.str())}});
            if (r.status != 201) return;
            std::lock_guard lk(mu);
            acked[key] = std::string(r.json().at("org_id").as_string());
          } catch (const std::exception&) {
            return;  // the server died mid-request: this command is unacknowledged
          }
          ++acks_this_round;
          cv.notify_all();
        }
      });
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return acks_this_round >= 150; });
    }
    server.kill9();
    for (auto& c : clients) c.join();
  }

  ServerProcess server(serve_args(dir.str()));
  HttpClient c(server.port());
  // Every acknowledged command is there, and retrying it changes nothing.
  for (const auto& [key, org] : acked) {
    auto r = c.post("/v1/organizations", org_body(owner, "s-" + key),
                                {{"Idempotency-Key", key}, {"Authorization", "Bearer " + admin_token_of(dir.str())}});
    REQUIRE(r.status == 201);
    CHECK(r.header("idempotent-replayed") == "true");
    CHECK(r.json().at("org_id").as_string() == org);
  }
  // Unacknowledged ones may or may not have landed; a retry settles each exactly once.
  for (const auto& key : attempted) {
    if (acked.count(key)) continue;
    auto r = c.post("/v1/organizations", org_body(owner, "s-" + key),
                                {{"Idempotency-Key", key}, {"Authorization", "Bearer " + admin_token_of(dir.str())}});
    CHECK(r.status == 201);
  }
  auto stats = log_stats(dir);
  CHECK(count_of(stats, "organization.created") == attempted.size());
  CHECK(count_of(stats, "user.signed_up") == 1);
  CHECK(server.terminate() == 0);  // a clean shutdown on SIGTERM

  auto [status, out] = run_command(std::string(CAUSEWAY_BINARY) + " log verify --data-dir " + dir.str());
  CAPTURE(out);
  CHECK(status == 0);
  CHECK(json::parse(out).at("ok").as_bool());
}

namespace {
// Rewrites (or deletes) the stored entry at `position` behind the server's back.
void tamper(const TempDir& dir, std::uint64_t position, bool remove) {
  rocksdb::DBOptions o;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* n : causeway::rockskeys::kCfNames) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::Open(o, dir.str() + "/log", cfs, &handles, &db).ok());
  auto* log = handles[causeway::rockskeys::kLog];
  std::string key = causeway::rockskeys::be64(position), value;
  REQUIRE(db->Get(rocksdb::ReadOptions(), log, key, &value).ok());
  if (remove) {
    REQUIRE(db->Delete(rocksdb::WriteOptions(), log, key).ok());
  } else {
    value[value.size() / 2] = static_cast<char>(value[value.size() / 2] ^ 0x20);
    REQUIRE(db->Put(rocksdb::WriteOptions(), log, key, value).ok());
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
}

TempDir log_with_users(int n) {
  TempDir dir;
  ServerProcess server(serve_args(dir.str()));
  HttpClient c(server.port());
  for (int i = 0; i < n; ++i)
    REQUIRE(c.post("/v1/users", R"({"email":"u)" + std::to_string(i) +
                                   R"(@example.com","display_name":"U","password":"a long password"})")
                .status == 201);
  REQUIRE(server.terminate() == 0);
  return dir;
}

json::object verify(const TempDir& dir, int expect_status) {
  auto [status, out] = run_command(std::string(CAUSEWAY_BINARY) + " log verify --data-dir " + dir.str());
  CAPTURE(out);
  CHECK(status == expect_status);
  return json::parse(out).as_object();
}
}  // namespace

TEST_CASE("log verify passes a clean log and reports its counts") {
  auto dir = log_with_users(3);
  auto report = verify(dir, 0);
  CHECK(report.at("ok").as_bool());
  CHECK(report.at("events").to_number<std::uint64_t>() == 3);
  CHECK(report.at("aggregates").to_number<std::uint64_t>() == 3);
}

TEST_CASE("log verify names the position of an entry whose bytes were altered") {
  auto dir = log_with_users(4);
  tamper(dir, 3, false);
  auto report = verify(dir, 3);
  CHECK_FALSE(report.at("ok").as_bool());
  CHECK(report.at("position").to_number<std::uint64_t>() == 3);
}

TEST_CASE("log verify names the position of a removed entry") {
  auto dir = log_with_users(4);
  tamper(dir, 2, true);
  auto report = verify(dir, 3);
  CHECK_FALSE(report.at("ok").as_bool());
  CHECK(report.at("position").to_number<std::uint64_t>() == 2);
}
