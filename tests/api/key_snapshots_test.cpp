// Key snapshots (api/key_snapshots.h) and RocksEventLog::replace_keys, on a
// real RocksDB log in a temporary folder, with an injected clock.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/key_snapshots.h"
#include "events/base64.h"
#include "events/key_vault.h"
#include "events/rocks/rocks_log.h"
#include "support/files.h"
#include "support/temp_dir.h"

using namespace causeway;
using namespace causeway::testing;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kDay = 86400LL * 1'000'000;

std::unique_ptr<RocksEventLog> open_log(const std::string& dir) {
  RocksLogOptions o;
  o.path = dir;
  auto log = RocksEventLog::open(o);
  REQUIRE(log.ok());
  return std::move(log).value();
}

SecretKey master() {
  SecretKey k;
  k.fill(7);
  return k;
}

// The value the key store holds for `id` (a wrapped key or the erasure marker).
std::string stored(RocksEventLog& log, const std::string& id) {
  auto v = log.key_store()->get(id);
  REQUIRE(v.ok());
  REQUIRE(v->has_value());
  return **v;
}

std::vector<std::string> snapshot_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Fixture {
  TempDir dir;
  ManualClock clock{1'800'000'000'000'000};
  std::unique_ptr<RocksEventLog> log = open_log(dir / "log");
  KeyVault vault{log->key_store(), master()};
  KeySnapshots snapshots{*log, {dir / "key-snapshots", 7 * kDay, &clock}};
};

}  // namespace

TEST_CASE("a key snapshot holds every stored key and erasure marker, as stored, with the log's head") {
  Fixture f;
  REQUIRE(f.vault.key_for("user-a").ok());
  REQUIRE(f.vault.key_for("user-b").ok());
  REQUIRE(f.vault.forget("user-b").ok());
  auto made = f.snapshots.write();
  REQUIRE(made.ok());
  CHECK(made->keys == 2);
  CHECK(made->log_position == f.log->head());

  auto read = read_key_snapshot(f.dir / "key-snapshots");  // the folder: its newest
  REQUIRE(read.ok());
  CHECK(read->path == made->path);
  CHECK(read->log_position == f.log->head());
  REQUIRE(read->keys.size() == 2);
  CHECK(read->keys[0] == std::make_pair(std::string("user-a"), stored(*f.log, "user-a")));
  CHECK(read->keys[1] == std::make_pair(std::string("user-b"), stored(*f.log, "user-b")));
  CHECK(fs::status(made->path).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("key snapshots older than the retention are deleted at the next write and the newest is always kept") {
  Fixture f;
  REQUIRE(f.vault.key_for("user-a").ok());
  auto first = f.snapshots.write();
  REQUIRE(first.ok());
  f.clock.advance_us(3 * kDay);
  auto second = f.snapshots.write();
  REQUIRE(second.ok());
  f.clock.advance_us(5 * kDay);  // the first is 8 days old, the second 5
  auto third = f.snapshots.write();
  REQUIRE(third.ok());
  CHECK_FALSE(fs::exists(first->path));
  CHECK(fs::exists(second->path));
  CHECK(fs::exists(third->path));
  f.clock.advance_us(30 * kDay);  // every snapshot is expired, the new one is kept
  auto fourth = f.snapshots.write();
  REQUIRE(fourth.ok());
  CHECK(snapshot_files(f.dir / "key-snapshots") == std::vector<std::string>{fs::path(fourth->path).filename()});
}

TEST_CASE("after an erasure no key snapshot in the folder holds the destroyed key") {
  Fixture f;
  REQUIRE(f.vault.key_for("user-a").ok());
  REQUIRE(f.vault.key_for("user-b").ok());
  const std::string wrapped_b = base64_encode(stored(*f.log, "user-b"));
  REQUIRE(f.snapshots.write().ok());
  REQUIRE(f.snapshots.write().ok());  // the same microsecond: still a new file
  REQUIRE(snapshot_files(f.dir / "key-snapshots").size() == 2);
  REQUIRE(!files_containing(f.dir / "key-snapshots", wrapped_b).empty());

  REQUIRE(f.vault.forget("user-b").ok());
  auto after = f.snapshots.write_after_erasure();
  REQUIRE(after.ok());
  CHECK(snapshot_files(f.dir / "key-snapshots") == std::vector<std::string>{fs::path(after->path).filename()});
  CHECK(files_containing(f.dir / "key-snapshots", wrapped_b).empty());
  auto read = read_key_snapshot(after->path);
  REQUIRE(read.ok());
  CHECK(read->keys.size() == 2);  // user-a's key and user-b's erasure marker
}

TEST_CASE("a key snapshot that was altered is refused as corrupt, and a folder without one as not found") {
  Fixture f;
  REQUIRE(f.vault.key_for("user-a").ok());
  auto made = f.snapshots.write();
  REQUIRE(made.ok());
  std::string text = slurp(made->path);
  const auto at = text.find("[[\"user-a\",\"") + 12;
  text[at] = text[at] == 'A' ? 'B' : 'A';  // one character of the wrapped key
  { std::ofstream(made->path, std::ios::binary | std::ios::trunc) << text; }
  auto altered = read_key_snapshot(made->path);
  REQUIRE_FALSE(altered.ok());
  CHECK(altered.error().code == Errc::corruption);

  TempDir empty;
  auto none = read_key_snapshot(empty.str());
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == Errc::not_found);
  auto missing = read_key_snapshot(empty / "keys-1.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Errc::not_found);
}

TEST_CASE("replacing a log's data keys leaves no byte of a replaced key in any file of its folder") {
  TempDir dir;
  std::string wrapped;
  {
    auto log = open_log(dir / "log");
    KeyVault vault(log->key_store(), master());
    for (int i = 0; i < 50; ++i) REQUIRE(vault.key_for("user-" + std::to_string(i)).ok());
    wrapped = stored(*log, "user-7");
    REQUIRE(log->purge_keys().ok());  // the keys in an SST file, as in a checkpoint
    REQUIRE(!files_containing(dir / "log", wrapped).empty());
    REQUIRE(log->replace_keys({{"user-x", "a value"}}).ok());
    auto keys = log->all_keys();
    REQUIRE(keys.ok());
    CHECK(*keys == std::vector<std::pair<std::string, std::string>>{{"user-x", "a value"}});
    log->close();
  }
  CHECK(files_containing(dir / "log", wrapped).empty());
}
