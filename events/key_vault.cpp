#include "events/key_vault.h"

#include "events/base64.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cctype>
#include <boost/json/serialize.hpp>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace causeway {
namespace json = boost::json;
namespace {

constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::string_view kForgotten = "forgotten";  // stored marker of an erased subject

std::string aead_seal(const SecretKey& key, std::string_view ad, std::string_view plain) {
  std::string out(kNonce + plain.size() + kTag, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(p, kNonce);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(p + kNonce, &clen, reinterpret_cast<const unsigned char*>(plain.data()),
                                             plain.size(), reinterpret_cast<const unsigned char*>(ad.data()), ad.size(),
                                             nullptr, p, key.data());
  out.resize(kNonce + clen);
  return out;
}

std::optional<std::string> aead_open(const SecretKey& key, std::string_view ad, std::string_view sealed) {
  if (sealed.size() < kNonce + kTag) return std::nullopt;
  std::string out(sealed.size() - kNonce - kTag, '\0');
  unsigned long long mlen = 0;
  auto* c = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(out.data()), &mlen, nullptr,
                                                 c + kNonce, sealed.size() - kNonce,
                                                 reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), c,
                                                 key.data()) != 0)
    return std::nullopt;
  out.resize(mlen);
  return out;
}

// The key of a v2 field: both keys are needed to derive it.
SecretKey field_key_v2(const SecretKey& subject_key, const SecretKey& bucket_key) {
  static constexpr std::string_view kDomain = "causeway/field/v2";
  unsigned char msg[kDomain.size() + 32];
  std::memcpy(msg, kDomain.data(), kDomain.size());
  std::memcpy(msg + kDomain.size(), bucket_key.data(), 32);
  SecretKey out;
  crypto_generichash(out.data(), out.size(), msg, sizeof msg, subject_key.data(), subject_key.size());
  sodium_memzero(msg, sizeof msg);
  return out;
}

std::string v2_ad(const std::string& subject, const std::string& bucket) { return subject + '\x1f' + bucket; }

}  // namespace

bool is_sealed(const json::value& v) {
  auto* o = v.if_object();
  if (!o || !o->contains("$sealed") || !o->contains("sub") || !o->contains("ct")) return false;
  return o->size() == 3 || (o->size() == 4 && o->contains("ret"));
}

KeyVault::KeyVault(std::shared_ptr<KeyStore> store, const SecretKey& master)
    : store_(std::move(store)), master_(master) {}

KeyVault::~KeyVault() { sodium_memzero(master_.data(), master_.size()); }

Result<KeyVault::Stored> KeyVault::read_stored(const std::string& subject) {
  auto stored = store_->get(subject);
  if (!stored) return std::move(stored).error();
  if (!stored->has_value()) return Stored{Stored::absent, {}};
  if (**stored == kForgotten) return Stored{Stored::forgotten, {}};
  auto plain = aead_open(master_, subject, **stored);
  if (!plain || plain->size() != 32)
    return Error::corruption("a data key does not unwrap under the master key (wrong master key?)");
  Stored out{Stored::present, {}};
  std::memcpy(out.key.data(), plain->data(), 32);
  sodium_memzero(plain->data(), plain->size());
  return out;
}

void KeyVault::cache_locked(const std::string& subject, const SecretKey& k) {
  if (cache_.size() > 100000) cache_.clear();
  cache_.emplace(subject, k);
}

Result<std::optional<SecretKey>> KeyVault::find(const std::string& subject) {
  std::uint64_t generation;
  {
    std::lock_guard lk(mu_);
    if (auto it = cache_.find(subject); it != cache_.end()) return std::optional<SecretKey>(it->second);
    generation = erasures_;
  }
  auto stored = read_stored(subject);  // without the lock: reads may run in parallel
  if (!stored) return std::move(stored).error();
  std::lock_guard lk(mu_);
  if (erasures_ != generation) {  // a forget() ran meanwhile: read again, under the lock
    stored = read_stored(subject);
    if (!stored) return std::move(stored).error();
  }
  if (stored->kind != Stored::present) return std::optional<SecretKey>();
  cache_locked(subject, stored->key);
  return std::optional<SecretKey>(stored->key);
}

Result<SecretKey> KeyVault::key_for(const std::string& subject) {
  auto found = find(subject);
  if (!found) return std::move(found).error();
  if (found->has_value()) return **found;
  // Creation is serialized so two commands about a new subject get the same key.
  std::lock_guard lk(mu_);
  if (auto it = cache_.find(subject); it != cache_.end()) return it->second;
  auto stored = read_stored(subject);
  if (!stored) return std::move(stored).error();
  if (stored->kind == Stored::forgotten) return Error::forbidden("the data subject has been erased");
  if (stored->kind == Stored::present) {
    cache_locked(subject, stored->key);
    return stored->key;
  }
  SecretKey k;
  randombytes_buf(k.data(), k.size());
  auto wrapped = aead_seal(master_, subject, std::string_view(reinterpret_cast<const char*>(k.data()), k.size()));
  if (auto st = store_->put_sync(subject, wrapped); !st) return std::move(st).error();
  cache_locked(subject, k);
  return k;
}

Status KeyVault::forget(const std::string& subject) {
  std::lock_guard lk(mu_);
  ++erasures_;
  if (auto it = cache_.find(subject); it != cache_.end()) {
    sodium_memzero(it->second.data(), it->second.size());
    cache_.erase(it);
  }
  // The marker overwrites the wrapped key; RocksDB compaction drops the old value.
  return store_->put_sync(subject, std::string(kForgotten));
}

Result<json::value> KeyVault::seal(const std::string& subject, const json::value& value, const std::string& bucket) {
  auto key = key_for(subject);
  if (!key) return std::move(key).error();
  auto plain = json::serialize(value);
  json::object o;
  if (bucket.empty()) {
    o["$sealed"] = "v1";
    o["sub"] = subject;
    o["ct"] = base64_encode(aead_seal(*key, subject, plain));
    return json::value(std::move(o));
  }
  auto bucket_key = key_for(bucket);
  if (!bucket_key) return std::move(bucket_key).error();
  SecretKey k = field_key_v2(*key, *bucket_key);
  o["$sealed"] = "v2";
  o["sub"] = subject;
  o["ret"] = bucket;
  o["ct"] = base64_encode(aead_seal(k, v2_ad(subject, bucket), plain));
  sodium_memzero(k.data(), k.size());
  return json::value(std::move(o));
}

Result<std::vector<std::string>> KeyVault::buckets_before(const std::string& before) {
  return store_->ids_between("ret~", before);
}

Status KeyVault::destroy_bucket(const std::string& bucket) {
  std::lock_guard lk(mu_);
  ++erasures_;
  if (auto it = cache_.find(bucket); it != cache_.end()) {
    sodium_memzero(it->second.data(), it->second.size());
    cache_.erase(it);
  }
  return store_->erase_sync(bucket);
}

Status KeyVault::open_all(json::value& doc) {
  if (is_sealed(doc)) {
    auto& o = doc.as_object();
    auto* sub = o["sub"].if_string();
    auto* ct = o["ct"].if_string();
    auto* ret = o.if_contains("ret");
    const bool v2 = ret != nullptr;
    if (!sub || !ct || (v2 && !ret->is_string())) return Error::corruption("sealed field is malformed");
    std::string subject(*sub);
    auto key = find(subject);
    if (!key) return std::move(key).error();
    if (!key->has_value()) {
      doc = "[erased]";
      return ok_status();
    }
    SecretKey k = **key;
    std::string ad = subject;
    if (v2) {
      std::string bucket(ret->as_string());
      auto bucket_key = find(bucket);
      if (!bucket_key) return std::move(bucket_key).error();
      if (!bucket_key->has_value()) {
        doc = "[expired]";
        return ok_status();
      }
      k = field_key_v2(k, **bucket_key);
      ad = v2_ad(subject, bucket);
    }
    auto raw = base64_decode(*ct);
    if (!raw) return Error::corruption("sealed field is not base64");
    auto plain = aead_open(k, ad, *raw);
    sodium_memzero(k.data(), k.size());
    if (!plain) return Error::corruption("sealed field fails authentication");
    boost::system::error_code ec;
    auto v = json::parse(*plain, ec);
    if (ec) return Error::corruption("sealed field does not hold JSON");
    doc = std::move(v);
    return ok_status();
  }
  if (auto* o = doc.if_object()) {
    for (auto& kv : *o)
      if (auto st = open_all(kv.value()); !st) return st;
  } else if (auto* a = doc.if_array()) {
    for (auto& v : *a)
      if (auto st = open_all(v); !st) return st;
  }
  return ok_status();
}

std::string KeyVault::blind_index(std::string_view domain, std::string_view value) const {
  // BLAKE2b keyed by a subkey of the master key; the domain separates indexes.
  unsigned char sub[32];
  crypto_generichash(sub, sizeof sub, reinterpret_cast<const unsigned char*>(domain.data()), domain.size(),
                     master_.data(), master_.size());
  unsigned char out[32];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(value.data()), value.size(), sub,
                     sizeof sub);
  sodium_memzero(sub, sizeof sub);
  char hexbuf[65];
  sodium_bin2hex(hexbuf, sizeof hexbuf, out, sizeof out);
  return std::string(hexbuf, 64);
}

bool sync_parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

Result<SecretKey> parse_master_key_hex(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  SecretKey k;
  std::size_t len = 0;
  if (text.size() != 64 ||
      sodium_hex2bin(k.data(), k.size(), text.data(), text.size(), nullptr, &len, nullptr) != 0 || len != 32)
    return Error::invalid("the master key must be 64 hexadecimal characters (32 bytes)");
  return k;
}

Status create_secret_file(const std::string& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Error::unavailable(fmt::format("cannot create {}", path));
  std::string line = std::string(content) + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(line.data(), line.size());
  if (!ok || !sync_parent_dir(path)) return Error::unavailable(fmt::format("cannot write {}", path));
  return ok_status();
}

Result<SecretKey> load_or_create_master_key(const std::string& path, bool& created) {
  created = false;
  std::ifstream in(path);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_master_key_hex(ss.str());
  }
  SecretKey k;
  randombytes_buf(k.data(), k.size());
  char hexbuf[65];
  sodium_bin2hex(hexbuf, sizeof hexbuf, k.data(), k.size());
  auto st = create_secret_file(path, std::string_view(hexbuf, 64));
  sodium_memzero(hexbuf, sizeof hexbuf);
  if (!st) return std::move(st).error();
  created = true;
  return k;
}

}  // namespace causeway
