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

#include "events/rocks/rocks_log.h"
#include "support/files.h"
#include "support/eventually.h"
#include "support/http_client.h"
#include "support/mail_files.h"
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
  auto r = c.post("/v1/users", R"({"email":"owner-)" + tag + R"(@example.com","display_name":"Owner )" + tag +
                                      R"(","password":"a long password"})");
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

// The newest key snapshot in `dir` (file names sort by time).
std::string newest_key_snapshot(const std::string& dir) {
  std::string newest;
  for (const auto& e : fs::directory_iterator(dir)) newest = std::max(newest, e.path().string());
  REQUIRE(!newest.empty());
  return newest;
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

  auto [rc, text] = run_cli("restore --from " + backup + " --data-dir " + restored + " --keys " +
                            (live / "key-snapshots"));
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
  CHECK(manifest.at("version").as_int64() == 2);
  CHECK(std::string(manifest.at("log").at("position").as_string()) == data.head);
  CHECK(!manifest.at("files").as_array().empty());

  auto [rrc, rtext] = run_cli("restore --from " + backup + " --data-dir " + restored + " --keys " +
                              (data.dir / "key-snapshots"));
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
    auto [rc, text] =
        run_cli("restore --from " + backup + " --data-dir " + (out / "r") + " --keys " + (data.dir / "key-snapshots"));
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

  REQUIRE(run_cli("restore --from " + (out / "secret") + " --data-dir " + (out / "r") + " --keys " +
                  (data.dir / "key-snapshots"))
              .first == 0);
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
  const std::string older_keys = newest_key_snapshot(data.dir / "key-snapshots");
  {  // more events, then a second backup whose head is past the first key snapshot's
    ServerProcess server(serve_args(data.dir.str()));
    write_some(server.port(), data.dir.str(), 1, "later");
    REQUIRE(server.terminate() == 0);
  }
  const std::string newer = out / "newer";
  REQUIRE(run_cli("backup --data-dir " + data.dir.str() + " --to " + newer).first == 0);
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
  const std::string keys = " --keys " + (data.dir / "key-snapshots");
  SUBCASE("restore into a populated data folder") {
    refused("restore --from " + backup + " --data-dir " + other.dir.str() + keys, 2, "not empty");
    CHECK(tree_digest(backup) == backup_before);
  }
  SUBCASE("restore onto a file") {
    refused("restore --from " + backup + " --data-dir " + other.dir.str() + "/master.key" + keys, 2, "not a folder");
  }
  SUBCASE("restore of a backup that holds no keys without a key snapshot") {
    refused("restore --from " + backup + " --data-dir " + (out / "r"), 2, "holds no data keys");
    CHECK_FALSE(fs::exists(out / "r"));
  }
  SUBCASE("restore with a key snapshot older than the backup") {
    refused("restore --from " + newer + " --data-dir " + (out / "r") + " --keys " + older_keys, 2,
            "older than the backup");
    CHECK_FALSE(fs::exists(out / "r"));
  }
  SUBCASE("restore with a key snapshot that was altered") {
    std::string text = read_file(older_keys);
    text.insert(text.find("[[") + 1, R"(["user-x","AAAA"],)");  // a key added
    { std::ofstream(out / "altered.json", std::ios::binary) << text; }
    refused("restore --from " + backup + " --data-dir " + (out / "r") + " --keys " + (out / "altered.json"), 3,
            "does not match its hash");
    CHECK_FALSE(fs::exists(out / "r"));
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

TEST_CASE("a subject erased after a backup stays erased in the copy restored from it, and everyone else reads back") {
  TempDir live, out;
  const std::string backup = out / "b", restored = out / "r";
  std::string erased, kept, backup_keys;
  {
    ServerProcess server(serve_args(live.str()));
    erased = write_some(server.port(), live.str(), 1, "gone");
    kept = write_some(server.port(), live.str(), 1, "kept");
    HttpClient c(server.port());
    auto made = c.post("/v1/admin/backups", json::serialize(json::object{{"path", backup}}), admin(live.str()));
    CAPTURE(made.body);
    REQUIRE(made.status == 201);
    backup_keys = std::string(made.json().at("key_snapshot").as_string());
    CHECK(made.json().at("keys").as_int64() >= 2);
    REQUIRE(fs::exists(backup_keys));
    auto gone = c.post("/v1/admin/subjects/" + erased + "/erasure", R"({"reason":"the subject asked"})",
                       admin(live.str()));
    CAPTURE(gone.body);
    REQUIRE(gone.status == 200);
    REQUIRE(server.terminate() == 0);
  }
  // The backup holds no data key: its log copy's key store is empty.
  {
    causeway::RocksLogOptions o;
    o.path = backup + "/log";
    o.read_only = true;
    auto copy = causeway::RocksEventLog::open(o);
    REQUIRE(copy.ok());
    auto keys = (*copy)->all_keys();
    REQUIRE(keys.ok());
    CHECK(keys->empty());
  }
  // The snapshot written with the backup held the key; the erasure deleted it.
  CHECK_FALSE(fs::exists(backup_keys));

  auto [rc, text] =
      run_cli("restore --from " + backup + " --data-dir " + restored + " --keys " + (live / "key-snapshots"));
  CAPTURE(text);
  REQUIRE(rc == 0);
  CHECK(files_containing(restored, "owner-gone@example.com").empty());
  CHECK(files_containing(restored, "Owner gone").empty());

  ServerProcess server(serve_args(restored, {"--master-key-file", live / "master.key", "--read-only"}));
  HttpClient c(server.port());
  const std::string head(c.get("/healthz").json().at("position").as_string());
  auto read = [&](const std::string& target) {
    auto r = c.get(target, admin(restored));
    CAPTURE(target);
    CAPTURE(r.body);
    REQUIRE(r.status == 200);
    return r.body;
  };
  for (const auto& body : {read("/v1/admin/streams/" + erased + "/events"),
                           read("/v1/views/users?user_id=" + erased + "&position=" + head)}) {
    CHECK_FALSE(contains(body, "owner-gone@example.com"));
    CHECK_FALSE(contains(body, "Owner gone"));
  }
  CHECK(contains(read("/v1/views/users?user_id=" + erased + "&position=" + head), "[erased]"));
  CHECK(contains(read("/v1/admin/streams/" + kept + "/events"), "owner-kept@example.com"));
  CHECK(contains(read("/v1/views/users?user_id=" + kept + "&position=" + head), "Owner kept"));
  REQUIRE(server.terminate() == 0);
  auto [arc, audit] = run_cli("audit --data-dir " + restored + " --master-key-file " + (live / "master.key") +
                              " export --reason 'restore check'");
  CAPTURE(audit.substr(0, 2000));
  CHECK(contains(audit, "owner-kept@example.com"));
  CHECK_FALSE(contains(audit, "owner-gone@example.com"));
}

TEST_CASE("a restored copy served read-only fires no timer, sends no mail and refuses commands, while a normal "
          "start of the same backup resumes the run and sends its mail") {
  TempDir live, out;
  const std::string backup = out / "b";
  std::string run_id, token, workflow_id;
  std::chrono::steady_clock::time_point due;
  {
    ServerProcess server(serve_args(live.str()));
    const std::string owner = write_some(server.port(), live.str(), 0, "ro");
    HttpClient c(server.port());
    auto org = c.post("/v1/organizations", R"({"slug":"ro-org","name":"Acme","owner_user_id":")" + owner + R"("})",
                      admin(live.str()));
    REQUIRE(org.status == 201);
    auto key = c.post("/v1/admin/organizations/" + std::string(org.json().at("org_id").as_string()) + "/api-keys",
                      R"({"name":"k","role":"member"})", admin(live.str()));
    REQUIRE(key.status == 201);
    token = std::string(key.json().at("token").as_string());
    const std::map<std::string, std::string> member{{"Authorization", "Bearer " + token}};
    // A run that waits 4 s on a timer, then mails.
    auto wf = c.post("/v1/workflows", R"({"name":"later","definition":{"format": 1, "name": "later", "nodes": [
        {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}},
        {"id": "pause", "type": "delay", "duration_ms": 4000},
        {"id": "mail", "type": "action", "action": {"kind": "email", "to": "'later@example.com'",
          "subject": "Later", "text": "The timer fired."}},
        {"id": "done", "type": "end"}],
      "edges": [{"from": "start", "to": "pause"}, {"from": "pause", "to": "mail"}, {"from": "mail", "to": "done"}]}})",
                     member);
    CAPTURE(wf.body);
    REQUIRE(wf.status == 201);
    workflow_id = std::string(wf.json().at("workflow_id").as_string());
    REQUIRE(c.post("/v1/workflows/" + workflow_id + "/versions", "", member).status == 200);
    auto run = c.post("/v1/workflows/" + workflow_id + "/runs", R"({"input":{}})", member);
    REQUIRE(run.status == 201);
    due = std::chrono::steady_clock::now() + std::chrono::seconds(4);
    run_id = std::string(run.json().at("run_id").as_string());
    REQUIRE(c.post("/v1/admin/backups", json::serialize(json::object{{"path", backup}}), admin(live.str())).status ==
            201);
    REQUIRE(server.terminate() == 0);
  }
  auto mailed_later = [](const std::string& data_dir, std::chrono::seconds wait) {
    for (const auto& m : mail_files(data_dir, 2, wait))  // the sign-up mail, then this one
      if (contains(m, "Subject: Later")) return true;
    return false;
  };
  REQUIRE(std::chrono::steady_clock::now() < due);  // the live server stopped before the timer was due
  REQUIRE_FALSE(mailed_later(live.str(), std::chrono::seconds(0)));
  auto restore = [&](const std::string& to) {
    auto [rc, text] = run_cli("restore --from " + backup + " --data-dir " + to + " --keys " + (live / "key-snapshots"));
    CAPTURE(text);
    REQUIRE(rc == 0);
    CHECK(contains(text, "serve --read-only --data-dir " + to));  // restore says how to inspect the copy
  };
  const std::map<std::string, std::string> member{{"Authorization", "Bearer " + token}};
  auto status_of = [&](HttpClient& c) {
    auto run = c.get("/v1/runs/" + run_id, member);
    REQUIRE(run.status == 200);
    return std::string(run.json().at("status").as_string());
  };
  const std::string copy = out / "copy";
  restore(copy);
  {
    ServerProcess server(serve_args(copy, {"--master-key-file", live / "master.key", "--read-only"}));
    HttpClient c(server.port());
    eventually([&] { return c.get("/readyz").status == 200; }, std::chrono::seconds(20), "the copy is ready");
    CHECK(c.post("/v1/workflows/" + workflow_id + "/runs", R"({"input":{}})", member).status == 503);
    CHECK(c.post("/v1/users", R"({"email":"new@example.com","display_name":"N","password":"a long password"})")
              .status == 503);
    // Past the timer's due time (and a second more), the run still waits and nothing was mailed.
    CHECK_FALSE(mailed_later(copy, std::chrono::duration_cast<std::chrono::seconds>(
                                       due - std::chrono::steady_clock::now() + std::chrono::seconds(2))));
    CHECK(status_of(c) == "running");
    REQUIRE(server.terminate() == 0);
  }
  // The control: the same backup started normally resumes the run, which mails.
  const std::string started = out / "started";
  restore(started);
  ServerProcess server(serve_args(started, {"--master-key-file", live / "master.key"}));
  HttpClient c(server.port());
  eventually([&] { return status_of(c) == "completed"; }, std::chrono::seconds(30), "the resumed run completes");
  CHECK(mailed_later(started, std::chrono::seconds(20)));
}
