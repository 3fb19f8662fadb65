// Backups and restores (api/backup.h, tools/backup_cli.cpp, POST /v1/admin/backups)
// against the real `causeway` binary: online through the route while commands
// are written, offline through the CLI, and the refusals.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "support/files.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "support/views_dump.h"

using namespace causeway::testing;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string t;
  std::getline(in, t);
  return t;
}

std::map<std::string, std::string> admin(const std::string& data_dir) {
  return {{"Authorization", "Bearer " + first_line(data_dir + "/admin.token")}};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::pair<int, std::string> run_cli(const std::string& args) {
  return run_command(std::string(CAUSEWAY_BINARY) + " " + args + " 2>&1");
}

// A user and `orgs` organizations; returns the user id.
std::string write_some(unsigned short port, const std::string& data_dir, int orgs, const std::string& tag) {
  HttpClient c(port);
  auto r = c.post("/v1/users", R"({"email":"owner-)" + tag + R"(@example.com","display_name":"O","password":"a long password"})");
  REQUIRE(r.status == 201);
  std::string owner(r.json().at("user_id").as_string());
  for (int i = 0; i < orgs; ++i) {
    auto o = c.post("/v1/organizations",
                    R"({"slug":")" + tag + "-" + std::to_string(i) + R"(","name":"Acme","owner_user_id":")" + owner +
                        R"("})",
                    admin(data_dir));
    REQUIRE(o.status == 201);
  }
  return owner;
}

// A data folder written by a server that has stopped.
struct StoppedData {
  TempDir dir;
  std::string owner;
  std::string head;
  StoppedData() {
    ServerProcess server(serve_args(dir.str()));
    owner = write_some(server.port(), dir.str(), 5, "s");
    HttpClient c(server.port());
    head = std::string(c.get("/healthz").json().at("position").as_string());
    REQUIRE(c.get("/v1/views/usage?limit=1&position=" + head, admin(dir.str())).status == 200);
    REQUIRE(server.terminate() == 0);
  }
};

std::string first_sst(const std::string& backup) {
  for (const auto& e : fs::directory_iterator(backup + "/log"))
    if (e.path().extension() == ".sst") return e.path().string();
  FAIL("no SST file in the backup");
  return {};
}

void flip_byte(const std::string& path, std::uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
}

// Polls `done` (the writers' progress) for at most 60 s; false on time-out.
template <class F>
bool wait_for(F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("an online backup taken while commands are written restores to a log that verifies, serves and whose "
          "views catch up to its head") {
  TempDir live, out;
  const std::string backup = out / "backup", restored = out / "restored";
  json::object made;
  std::string owner;
  {
    ServerProcess server(serve_args(live.str()));
    owner = write_some(server.port(), live.str(), 1, "o");
    std::atomic<bool> stop{false};
    std::atomic<int> acks{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 3; ++t)
      writers.emplace_back([&, t] {
        HttpClient c(server.port());
        for (int n = 0; !stop; ++n) {
          auto r = c.post("/v1/organizations",
                          R"({"slug":"w)" + std::to_string(t) + "-" + std::to_string(n) +
                              R"(","name":"Acme","owner_user_id":")" + owner + R"("})",
                          admin(live.str()));
          if (r.status != 201) return;
          ++acks;
        }
      });
    bool progressed = wait_for([&] { return acks >= 60; });
    HttpClient c(server.port());
    auto r = c.post("/v1/admin/backups", json::serialize(json::object{{"path", backup}}), admin(live.str()));
    const int acks_after = acks;
    progressed = progressed && wait_for([&] { return acks >= acks_after + 30; });  // writes go on after the backup
    stop = true;
    for (auto& w : writers) w.join();
    REQUIRE(progressed);
    CAPTURE(r.body);
    REQUIRE(r.status == 201);
    made = r.json().as_object();
    REQUIRE(server.terminate() == 0);
  }
  const auto log_pos = std::stoull(std::string(made.at("log_position").as_string()));
  const auto views_pos = std::stoull(std::string(made.at("views_position").as_string()));
  CHECK(log_pos >= 61);             // the user and at least 60 acknowledged organizations
  CHECK(views_pos <= log_pos);      // the views copy is never ahead of the log copy
  CHECK(made.at("secrets").as_array().empty());
  CHECK(contains(std::string(made.at("warning").as_string()), "does not contain the master key"));
  CHECK_FALSE(fs::exists(backup + "/master.key"));
  CHECK_FALSE(fs::exists(backup + "/admin.token"));
  CHECK(mode_of(backup) == 0700);

  auto [rc, text] = run_cli("restore --from " + backup + " --data-dir " + restored);
  CAPTURE(text);
  REQUIRE(rc == 0);
  CHECK(contains(text, "no master key"));
  auto [vrc, verify] = run_cli("log verify --data-dir " + restored);
  CAPTURE(verify);
  REQUIRE(vrc == 0);
  CHECK(contains(verify, "\"ok\":true"));

  // Serves with the original master key; the views catch up to the restored head.
  ServerProcess server(serve_args(restored, {"--master-key-file", live / "master.key"}));
  HttpClient c(server.port());
  const std::string head(c.get("/healthz").json().at("position").as_string());
  CHECK(head == std::to_string(log_pos));
  auto caught_up = c.get("/v1/views/usage?limit=1&position=" + head, admin(restored));
  CHECK(caught_up.status == 200);
  auto events = c.get("/v1/admin/streams/" + owner + "/events", admin(restored));
  REQUIRE(events.status == 200);
  CHECK(contains(events.body, "owner-o@example.com"));  // sealed fields open with the same key
  REQUIRE(server.terminate() == 0);
  CHECK(views_scalar(restored, "SELECT count(*) FROM audit_index") == static_cast<std::int64_t>(log_pos));
}

TEST_CASE("an offline CLI backup restores to an identical log and views") {
  StoppedData data;
  TempDir out;
  const std::string backup = out / "b", restored = out / "r";
  auto [rc, text] = run_cli("backup --data-dir " + data.dir.str() + " --to " + backup);
  CAPTURE(text);
  REQUIRE(rc == 0);
  CHECK(contains(text, "\"log_position\":\"" + data.head + "\""));
  CHECK(fs::exists(backup + "/manifest.json"));
  auto manifest = json::parse(read_file(backup + "/manifest.json")).as_object();
  CHECK(manifest.at("version").as_int64() == 1);
  CHECK(std::string(manifest.at("log").at("position").as_string()) == data.head);
  CHECK(!manifest.at("files").as_array().empty());

  auto [rrc, rtext] = run_cli("restore --from " + backup + " --data-dir " + restored);
  CAPTURE(rtext);
  REQUIRE(rrc == 0);
  CHECK(fs::is_symlink(restored + "/views.db"));
  CHECK(fs::read_symlink(restored + "/views.db") == "views/gen-000001.db");
  CHECK(dump_views(restored) == dump_views(data.dir.str()));
  auto [vrc, verify] = run_cli("log verify --data-dir " + restored);
  CAPTURE(verify);
  CHECK(vrc == 0);
  auto [src, stats] = run_cli("log stats --data-dir " + restored);
  CHECK(contains(stats, "\"position\":\"" + data.head + "\""));
}

TEST_CASE("the offline backup refuses while a server holds the data folder and names the route") {
  TempDir live, out;
  ServerProcess server(serve_args(live.str()));
  write_some(server.port(), live.str(), 1, "h");
  auto [rc, text] = run_cli("backup --data-dir " + live.str() + " --to " + (out / "b"));
  CAPTURE(text);
  CHECK(rc == 2);
  CHECK(contains(text, "POST"));
  CHECK(contains(text, "/v1/admin/backups"));
  CHECK_FALSE(fs::exists(out / "b"));
}

TEST_CASE("restore refuses a backup with an altered file, naming it, and a non-empty target") {
  StoppedData data;
  TempDir out;
  const std::string backup = out / "b";
  REQUIRE(run_cli("backup --data-dir " + data.dir.str() + " --to " + backup).first == 0);

  SUBCASE("a flipped byte in a log file") {
    const std::string sst = first_sst(backup);
    flip_byte(sst, fs::file_size(sst) / 2);
    auto [rc, text] = run_cli("restore --from " + backup + " --data-dir " + (out / "r"));
    CAPTURE(text);
    CHECK(rc == 3);
    CHECK(contains(text, "log/" + fs::path(sst).filename().string()));
    CHECK_FALSE(fs::exists(out / "r"));
    CHECK(run_cli("log verify --data-dir " + data.dir.str()).first == 0);  // the backup shares no file with the live log
  }
  SUBCASE("a flipped byte in the views copy") {
    flip_byte(backup + "/views.db", 200);
    auto [rc, text] = run_cli("restore --from " + backup + " --data-dir " + (out / "r"));
    CAPTURE(text);
    CHECK(rc == 3);
    CHECK(contains(text, "views.db"));
    CHECK_FALSE(fs::exists(out / "r"));
  }
  SUBCASE("a missing file") {
    fs::remove(backup + "/log/CURRENT");
    auto [rc, text] = run_cli("restore --from " + backup + " --data-dir " + (out / "r"));
    CAPTURE(text);
    CHECK(rc == 3);
    CHECK(contains(text, "log/CURRENT"));
  }
  SUBCASE("no manifest") {
    fs::remove(backup + "/manifest.json");
    auto [rc, text] = run_cli("restore --from " + backup + " --data-dir " + (out / "r"));
    CAPTURE(text);
    CHECK(rc == 2);
    CHECK(contains(text, "manifest.json"));
  }
  SUBCASE("a non-empty target") {
    fs::create_directories(out / "r");
    { std::ofstream(out / "r/keep-me") << "x"; }
    auto [rc, text] = run_cli("restore --from " + backup + " --data-dir " + (out / "r"));
    CAPTURE(text);
    CHECK(rc == 2);
    CHECK(contains(text, "not empty"));
    CHECK(fs::exists(out / "r/keep-me"));
    CHECK_FALSE(fs::exists(out / "r/log"));
  }
}

TEST_CASE("a backup holds no master key or admin token unless secrets are asked for") {
  StoppedData data;
  TempDir out;
  auto [rc, text] = run_cli("backup --data-dir " + data.dir.str() + " --to " + (out / "plain"));
  CAPTURE(text);
  REQUIRE(rc == 0);
  CHECK(contains(text, "does NOT contain the master key"));
  CHECK_FALSE(fs::exists(out / "plain/master.key"));
  CHECK_FALSE(fs::exists(out / "plain/admin.token"));
  CHECK_FALSE(contains(read_file(out / "plain/manifest.json"), "master.key"));

  auto [src, stext] = run_cli("backup --data-dir " + data.dir.str() + " --to " + (out / "secret") + " --include-secrets");
  CAPTURE(stext);
  REQUIRE(src == 0);
  CHECK(contains(stext, "CONTAINS the master key"));
  CHECK(read_file(out / "secret/master.key") == read_file(data.dir / "master.key"));
  CHECK(read_file(out / "secret/admin.token") == read_file(data.dir / "admin.token"));
  CHECK(mode_of(out / "secret/master.key") == 0600);
  CHECK(mode_of(out / "secret/admin.token") == 0600);

  REQUIRE(run_cli("restore --from " + (out / "secret") + " --data-dir " + (out / "r")).first == 0);
  CHECK(read_file(out / "r/master.key") == read_file(data.dir / "master.key"));
  CHECK(mode_of(out / "r/master.key") == 0600);

  // Online, with include_secrets.
  ServerProcess server(serve_args(out / "r"));
  HttpClient c(server.port());
  auto r = c.post("/v1/admin/backups", json::serialize(json::object{{"path", out / "online"}, {"include_secrets", true}}),
                  admin(out / "r"));
  CAPTURE(r.body);
  REQUIRE(r.status == 201);
  CHECK(read_file(out / "online/master.key") == read_file(data.dir / "master.key"));
  CHECK(contains(r.body, "contains the master key"));
}

TEST_CASE("the backup route refuses bad input: no admin token, unknown field, relative, inside the data folder or "
          "existing path") {
  TempDir live, out;
  ServerProcess server(serve_args(live.str()));
  HttpClient c(server.port());
  auto post = [&](const std::string& body, bool with_token = true) {
    return c.post("/v1/admin/backups", body, with_token ? admin(live.str()) : std::map<std::string, std::string>{});
  };
  auto pointer = [](const HttpResult& r) {
    return std::string(r.json().at("errors").as_array().at(0).at("pointer").as_string());
  };
  const std::string fresh = json::serialize(json::object{{"path", out / "b"}});

  CHECK(post(fresh, false).status == 401);
  auto wrong = c.post("/v1/admin/backups", fresh, {{"Authorization", "Bearer not-the-token"}});
  CHECK(wrong.status == 401);

  auto unknown = post(json::serialize(json::object{{"path", out / "b"}, {"compress", true}}));
  CHECK(unknown.status == 422);
  CHECK(pointer(unknown) == "/compress");

  auto relative = post(R"({"path":"backups/today"})");
  CHECK(relative.status == 422);
  CHECK(pointer(relative) == "/path");

  auto missing = post("{}");
  CHECK(missing.status == 422);
  CHECK(pointer(missing) == "/path");

  auto not_bool = post(json::serialize(json::object{{"path", out / "b"}, {"include_secrets", "yes"}}));
  CHECK(not_bool.status == 422);
  CHECK(pointer(not_bool) == "/include_secrets");

  auto inside = post(json::serialize(json::object{{"path", live / "backup"}}));
  CHECK(inside.status == 422);
  CHECK(pointer(inside) == "/path");

  auto no_parent = post(json::serialize(json::object{{"path", out / "no/such/parent"}}));
  CHECK(no_parent.status == 422);

  auto existing = post(json::serialize(json::object{{"path", out.str()}}));
  CHECK(existing.status == 409);
  CHECK(pointer(existing) == "/path");

  CHECK(c.get("/v1/admin/backups", admin(live.str())).status == 405);
  CHECK_FALSE(fs::exists(out / "b"));
  CHECK(post(fresh).status == 201);
  CHECK(post(fresh).status == 409);  // now it exists
}

TEST_CASE("every refusal of restore and backup leaves every byte of an existing folder untouched") {
  StoppedData data;  // a populated data folder: log/, views/, views.db, master.key, admin.token
  TempDir out;
  const std::string backup = out / "b";
  REQUIRE(run_cli("backup --data-dir " + data.dir.str() + " --to " + backup).first == 0);
  StoppedData other;  // a second populated data folder, named as a target
  const auto data_before = tree_digest(data.dir.str());
  const auto other_before = tree_digest(other.dir.str());
  const auto backup_before = tree_digest(backup);
  REQUIRE(data_before.count("log/CURRENT") == 1);
  REQUIRE(data_before.count("master.key") == 1);
  REQUIRE(data_before.count("admin.token") == 1);
  REQUIRE(data_before.count("views.db") == 1);

  auto refused = [&](const std::string& args, int code, const std::string& says) {
    auto [rc, text] = run_cli(args);
    CAPTURE(args);
    CAPTURE(text);
    CHECK(rc == code);
    CHECK(contains(text, says));
    CHECK(tree_digest(data.dir.str()) == data_before);
    CHECK(tree_digest(other.dir.str()) == other_before);
  };
  SUBCASE("restore into a populated data folder") {
    refused("restore --from " + backup + " --data-dir " + other.dir.str(), 2, "not empty");
    CHECK(tree_digest(backup) == backup_before);
  }
  SUBCASE("restore onto a file") {
    refused("restore --from " + backup + " --data-dir " + other.dir.str() + "/master.key", 2, "not a folder");
  }
  SUBCASE("restore of a damaged backup into a populated data folder") {
    flip_byte(backup + "/views.db", 200);
    refused("restore --from " + backup + " --data-dir " + other.dir.str(), 3, "views.db");
  }
  SUBCASE("restore of a folder that is not a backup into a populated data folder") {
    refused("restore --from " + data.dir.str() + " --data-dir " + other.dir.str(), 2, "manifest.json");
  }
  SUBCASE("backup into a populated data folder") {
    refused("backup --data-dir " + data.dir.str() + " --to " + other.dir.str(), 2, "already exists");
  }
  SUBCASE("backup into a folder whose parent is missing") {
    refused("backup --data-dir " + data.dir.str() + " --to " + (out / "no/such/parent"), 2, "does not exist");
    CHECK_FALSE(fs::exists(out / "no"));
  }
  SUBCASE("backup of a folder that holds no log") {
    refused("backup --data-dir " + (out / "empty") + " --to " + (out / "b2"), 2, "holds no log");
    CHECK_FALSE(fs::exists(out / "b2"));
  }
}
