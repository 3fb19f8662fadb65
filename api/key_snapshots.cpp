#include "api/key_snapshots.h"

#include <sys/stat.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <optional>
#include <sstream>

#include "api/backup_manifest.h"
#include "events/base64.h"
#include "events/codec.h"
#include "events/rocks/rocks_log.h"

namespace causeway {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::string_view kPrefix = "keys-";
constexpr std::string_view kSuffix = ".json";
constexpr int kFormatVersion = 1;

// The microseconds a snapshot's file name carries, or nullopt for any other file.
std::optional<std::int64_t> stamp_of(const std::string& name) {
  if (name.size() != kPrefix.size() + 20 + kSuffix.size() || name.rfind(kPrefix, 0) != 0 ||
      name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
    return std::nullopt;
  std::int64_t us = 0;
  const char* first = name.data() + kPrefix.size();
  auto [end, ec] = std::from_chars(first, first + 20, us);
  if (ec != std::errc() || end != first + 20) return std::nullopt;
  return us;
}

std::string name_of(std::int64_t us) { return fmt::format("{}{:020}{}", kPrefix, us, kSuffix); }

// The snapshots in `dir`, oldest first.
Result<std::vector<std::pair<std::int64_t, std::string>>> list_snapshots(const std::string& dir) {
  std::vector<std::pair<std::int64_t, std::string>> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (auto us = stamp_of(it->path().filename().string())) out.emplace_back(*us, it->path().string());
  if (ec) return Error::unavailable(fmt::format("cannot list the key snapshots in {}: {}", dir, ec.message()));
  std::sort(out.begin(), out.end());
  return out;
}

std::string snapshot_json(const std::string& created_at, const PositionToken& at,
                          const std::vector<std::pair<std::string, std::string>>& keys) {
  json::array arr;
  arr.reserve(keys.size());
  for (const auto& [id, value] : keys) arr.push_back(json::array{json::string(id), json::string(base64_encode(value))});
  const std::string keys_text = json::serialize(arr);
  json::object o{{"format", "causeway-keys"}, {"version", kFormatVersion}, {"created_at", created_at},
                 {"log_position", at.str()},   {"keys", std::move(arr)},    {"blake2b_256", backup::blake2b_hex(keys_text)}};
  return json::serialize(o) + "\n";
}

Result<KeySnapshot> parse_snapshot(const std::string& path, std::string_view text) {
  auto bad = [&](std::string_view why) { return Error::invalid(fmt::format("{} is not a key snapshot: {}", path, why)); };
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return bad("not a JSON object");
  const auto& o = v.as_object();
  auto str = [&](std::string_view k) -> const json::string* {
    auto* f = o.if_contains(k);
    return f && f->is_string() ? &f->as_string() : nullptr;
  };
  if (!str("format") || *str("format") != "causeway-keys") return bad("format is not causeway-keys");
  auto* ver = o.if_contains("version");
  if (!ver || !ver->is_int64() || ver->as_int64() != kFormatVersion)
    return bad(fmt::format("its version is not {}; use a matching causeway", kFormatVersion));
  auto* keys = o.if_contains("keys");
  if (!str("created_at") || !str("log_position") || !str("blake2b_256") || !keys || !keys->is_array())
    return bad("created_at, log_position, keys or blake2b_256 missing");
  if (backup::blake2b_hex(json::serialize(*keys)) != *str("blake2b_256"))
    return Error::corruption(fmt::format("the key snapshot {} does not match its hash (altered or damaged)", path));
  KeySnapshot out;
  out.path = path;
  out.created_at = std::string(*str("created_at"));
  auto at = PositionToken::parse(*str("log_position"));
  if (!at) return bad("log_position is not a position token");
  out.log_position = *at;
  out.keys.reserve(keys->as_array().size());
  for (const auto& k : keys->as_array()) {
    const auto* pair = k.if_array();
    if (!pair || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string())
      return bad("a key entry is not [id, value]");
    auto value = base64_decode((*pair)[1].as_string());
    if (!value) return bad("a key value is not base64");
    out.keys.emplace_back(std::string((*pair)[0].as_string()), std::move(*value));
  }
  return out;
}

}  // namespace

KeySnapshots::KeySnapshots(RocksEventLog& log, Options opts) : log_(log), opts_(std::move(opts)) {
  if (!opts_.clock) opts_.clock = &system_clock_;
}

Result<KeySnapshotInfo> KeySnapshots::write() {
  std::lock_guard lk(mu_);
  return write_locked(false);
}

Result<KeySnapshotInfo> KeySnapshots::write_after_erasure() {
  std::lock_guard lk(mu_);
  return write_locked(true);
}

Result<KeySnapshotInfo> KeySnapshots::write_locked(bool drop_all_older) {
  const std::string& dir = opts_.dir;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Error::unavailable(fmt::format("cannot create the key snapshot folder {}", dir));
  auto existing = list_snapshots(dir);
  if (!existing) return std::move(existing).error();
  // The head first, then the keys: every key an event up to the head uses is read.
  const PositionToken head = log_.head();
  auto keys = log_.all_keys();
  if (!keys) return std::move(keys).error();
  // Names grow strictly, so the newest file is always the last one listed.
  std::int64_t us = opts_.clock->now_us();
  if (!existing->empty()) us = std::max(us, existing->back().first + 1);
  const std::string path = dir + "/" + name_of(us);
  const std::string tmp = path + ".tmp";
  std::error_code ec;
  fs::remove(tmp, ec);  // left by a crash mid-write
  if (auto st = backup::write_new_file(tmp, snapshot_json(rfc3339_us(us), head, *keys), 0600); !st) return std::move(st).error();
  fs::rename(tmp, path, ec);
  if (ec) return Error::unavailable(fmt::format("cannot write the key snapshot {}: {}", path, ec.message()));
  if (auto st = backup::sync_dir(dir); !st) return std::move(st).error();

  const std::int64_t expired_before = us - opts_.retention_us;
  for (const auto& [stamp, older] : *existing)
    if (drop_all_older || stamp < expired_before) {
      if (!fs::remove(older, ec) && ec)
        return Error::unavailable(fmt::format("cannot delete the key snapshot {}: {}", older, ec.message()));
    }
  if (auto st = backup::sync_dir(dir); !st) return std::move(st).error();
  return KeySnapshotInfo{path, head, keys->size()};
}

Result<KeySnapshot> read_key_snapshot(const std::string& path) {
  std::error_code ec;
  std::string file = path;
  if (fs::is_directory(path, ec)) {
    auto all = list_snapshots(path);
    if (!all) return std::move(all).error();
    if (all->empty()) return Error::not_found(fmt::format("{} holds no key snapshot (keys-*.json)", path));
    file = all->back().second;
  } else if (!fs::is_regular_file(path, ec)) {
    return Error::not_found(fmt::format("no key snapshot at {}", path));
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) return Error::unavailable(fmt::format("cannot read {}", file));
  return parse_snapshot(file, ss.str());
}

}  // namespace causeway
