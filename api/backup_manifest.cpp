#include "api/backup_manifest.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <limits>

namespace causeway::backup {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string to_hex(const unsigned char* p, std::size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}

class Blake2b {
 public:
  Blake2b() { crypto_generichash_init(&st_, nullptr, 0, 32); }
  void update(const void* p, std::size_t n) {
    crypto_generichash_update(&st_, static_cast<const unsigned char*>(p), n);
  }
  std::string hex() {
    unsigned char out[32];
    crypto_generichash_final(&st_, out, sizeof out);
    return to_hex(out, sizeof out);
  }

 private:
  crypto_generichash_state st_;
};

// Closes a file descriptor at scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// A path a backup may hold: "views.db", a secret, or a plain path under log/.
bool allowed_path(std::string_view p) {
  if (p == "views.db" || p == "master.key" || p == "admin.token") return true;
  if (p.rfind("log/", 0) != 0 || p.size() == 4) return false;
  std::size_t start = 0;
  while (start <= p.size()) {
    auto end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    auto part = p.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return p.find('\0') == std::string_view::npos;
}

Result<std::uint64_t> u64_of(const json::value& v, std::string_view what) {
  if (auto* i = v.if_int64(); i && *i >= 0) return static_cast<std::uint64_t>(*i);
  if (auto* u = v.if_uint64()) return *u;
  return Error::invalid(fmt::format("manifest: {} must be a non-negative integer", what));
}

Result<std::string> string_of(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return Error::invalid(fmt::format("manifest: {} must be a string", key));
  return std::string(v->as_string());
}

Result<PositionToken> token_of(const json::object& o, std::string_view key) {
  auto s = string_of(o, key);
  if (!s) return std::move(s).error();
  auto t = PositionToken::parse(*s);
  if (!t) return Error::invalid(fmt::format("manifest: {} is not a position token", key));
  return t;
}

}  // namespace

std::string manifest_json(const Manifest& m) {
  json::object o;
  o["format"] = "causeway-backup";
  o["version"] = m.version;
  o["created_at"] = m.created_at;
  o["log"] = json::object{{"position", m.log_position.str()}, {"chain_head", m.chain_head}};
  if (m.has_views) {
    json::array cps;
    for (const auto& c : m.view_checkpoints)
      cps.push_back(json::object{{"projection", c.projection}, {"partition", c.partition}, {"position", c.position}});
    o["views"] = json::object{{"generation", m.views_generation},
                              {"position", m.views_position.str()},
                              {"checkpoints", std::move(cps)}};
  } else {
    o["views"] = nullptr;
  }
  o["secrets"] = json::array(m.secrets.begin(), m.secrets.end());
  json::array files;
  for (const auto& f : m.files)
    files.push_back(json::object{{"path", f.path}, {"bytes", f.bytes}, {"blake2b_256", f.blake2b_256}});
  o["files"] = std::move(files);
  return json::serialize(o) + "\n";
}

Result<Manifest> parse_manifest(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return Error::invalid("manifest.json is not a JSON object");
  const auto& o = v.as_object();
  auto format = string_of(o, "format");
  if (!format || *format != "causeway-backup") return Error::invalid("manifest.json is not a Causeway backup manifest");
  auto* ver = o.if_contains("version");
  if (!ver || !ver->is_int64() || ver->as_int64() < 1 || ver->as_int64() > kManifestVersion)
    return Error::invalid(
        fmt::format("the backup manifest version is not 1 to {}; use a matching causeway", kManifestVersion));
  Manifest m;
  m.version = static_cast<int>(ver->as_int64());
  auto created = string_of(o, "created_at");
  if (!created) return std::move(created).error();
  m.created_at = *created;
  auto* log = o.if_contains("log");
  if (!log || !log->is_object()) return Error::invalid("manifest: log must be an object");
  auto pos = token_of(log->as_object(), "position");
  if (!pos) return std::move(pos).error();
  m.log_position = *pos;
  auto chain = string_of(log->as_object(), "chain_head");
  if (!chain) return std::move(chain).error();
  m.chain_head = *chain;
  auto* views = o.if_contains("views");
  if (views && views->is_object()) {
    const auto& vo = views->as_object();
    m.has_views = true;
    auto gen = string_of(vo, "generation");
    if (!gen) return std::move(gen).error();
    m.views_generation = *gen;
    auto vpos = token_of(vo, "position");
    if (!vpos) return std::move(vpos).error();
    m.views_position = *vpos;
    auto* cps = vo.if_contains("checkpoints");
    if (!cps || !cps->is_array()) return Error::invalid("manifest: views.checkpoints must be an array");
    for (const auto& c : cps->as_array()) {
      if (!c.is_object()) return Error::invalid("manifest: a views checkpoint must be an object");
      auto name = string_of(c.as_object(), "projection");
      if (!name) return std::move(name).error();
      auto* part = c.as_object().if_contains("partition");
      auto* at = c.as_object().if_contains("position");
      if (!part || !at) return Error::invalid("manifest: a views checkpoint needs partition and position");
      auto p = u64_of(*part, "partition");
      if (!p) return std::move(p).error();
      auto a = u64_of(*at, "position");
      if (!a) return std::move(a).error();
      if (*p > std::numeric_limits<std::uint32_t>::max()) return Error::invalid("manifest: partition out of range");
      m.view_checkpoints.push_back({*name, static_cast<std::uint32_t>(*p), *a});
    }
  } else if (!views || !views->is_null()) {
    return Error::invalid("manifest: views must be an object or null");
  }
  auto* secrets = o.if_contains("secrets");
  if (!secrets || !secrets->is_array()) return Error::invalid("manifest: secrets must be an array");
  for (const auto& s : secrets->as_array()) {
    if (!s.is_string() || (s.as_string() != "master.key" && s.as_string() != "admin.token"))
      return Error::invalid("manifest: secrets may name only master.key and admin.token");
    m.secrets.emplace_back(s.as_string());
  }
  auto* files = o.if_contains("files");
  if (!files || !files->is_array()) return Error::invalid("manifest: files must be an array");
  for (const auto& f : files->as_array()) {
    if (!f.is_object()) return Error::invalid("manifest: a file entry must be an object");
    const auto& fo = f.as_object();
    ManifestFile mf;
    auto path = string_of(fo, "path");
    if (!path) return std::move(path).error();
    if (!allowed_path(*path)) return Error::invalid(fmt::format("manifest: {} is not a file a backup may hold", *path));
    mf.path = *path;
    auto* bytes = fo.if_contains("bytes");
    if (!bytes) return Error::invalid(fmt::format("manifest: {} has no size", mf.path));
    auto b = u64_of(*bytes, "bytes");
    if (!b) return std::move(b).error();
    mf.bytes = *b;
    auto hash = string_of(fo, "blake2b_256");
    if (!hash) return std::move(hash).error();
    if (hash->size() != 64) return Error::invalid(fmt::format("manifest: the hash of {} is not 64 hex digits", mf.path));
    mf.blake2b_256 = *hash;
    m.files.push_back(std::move(mf));
  }
  return m;
}

std::string blake2b_hex(std::string_view bytes) {
  Blake2b h;
  h.update(bytes.data(), bytes.size());
  return h.hex();
}

Result<ManifestFile> describe_file(const std::string& root, const std::string& rel) {
  const std::string path = root + "/" + rel;
  Fd in{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) return Error::unavailable(fmt::format("cannot open {}", path));
  Blake2b h;
  std::vector<char> buf(1 << 20);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(in.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::unavailable(fmt::format("cannot read {}", path));
    if (n == 0) break;
    h.update(buf.data(), static_cast<std::size_t>(n));
    total += static_cast<std::uint64_t>(n);
  }
  return ManifestFile{rel, total, h.hex()};
}

Result<std::string> copy_file_hashed(const std::string& from, const std::string& to, mode_t mode) {
  Fd in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) return Error::unavailable(fmt::format("cannot open {}", from));
  Fd out{::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)};
  if (out.fd < 0) return Error::unavailable(fmt::format("cannot create {}", to));
  Blake2b h;
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(in.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::unavailable(fmt::format("cannot read {}", from));
    if (n == 0) break;
    h.update(buf.data(), static_cast<std::size_t>(n));
    if (!write_all(out.fd, buf.data(), static_cast<std::size_t>(n)))
      return Error::unavailable(fmt::format("cannot write {}", to));
  }
  if (::fsync(out.fd) != 0) return Error::unavailable(fmt::format("fsync of {} failed", to));
  return h.hex();
}

Result<std::vector<std::string>> list_files(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, ec), end;
  if (ec) return Error::unavailable(fmt::format("cannot list {}: {}", root, ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) return Error::unavailable(fmt::format("cannot list {}: {}", root, ec.message()));
    if (it->is_regular_file(ec)) out.push_back(fs::relative(it->path(), root, ec).generic_string());
    if (ec) return Error::unavailable(fmt::format("cannot list {}: {}", root, ec.message()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status write_new_file(const std::string& path, std::string_view content, mode_t mode) {
  Fd out{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)};
  if (out.fd < 0) return Error::unavailable(fmt::format("cannot create {}", path));
  if (!write_all(out.fd, content.data(), content.size()) || ::fsync(out.fd) != 0)
    return Error::unavailable(fmt::format("cannot write {}", path));
  return ok_status();
}

Status sync_dir(const std::string& dir) {
  Fd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (fd.fd < 0 || ::fsync(fd.fd) != 0) return Error::unavailable(fmt::format("cannot sync the folder {}", dir));
  return ok_status();
}

PositionToken lowest(const std::vector<ViewCheckpoint>& cps, std::size_t partitions) {
  PositionToken t;
  t.offsets.assign(partitions, std::numeric_limits<std::uint64_t>::max());
  for (const auto& c : cps)
    if (c.partition < partitions) t.offsets[c.partition] = std::min(t.offsets[c.partition], c.position);
  for (auto& o : t.offsets)
    if (o == std::numeric_limits<std::uint64_t>::max()) o = 0;
  return t;
}

}  // namespace causeway::backup
