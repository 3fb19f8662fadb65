#include "engine/audit/signing.h"

#include "events/placement.h"

#include <sodium.h>

#include <cstring>
#include <fmt/format.h>

namespace causeway::audit {

namespace {

constexpr char kLabel[] = "causeway.audit.checkpoint.v1";

std::string message(std::uint32_t partition, std::uint64_t position, const Hash& h) {
  std::string m(kLabel, sizeof kLabel);  // includes the terminating 0x00
  for (int i = 0; i < 4; ++i) m.push_back(static_cast<char>((partition >> (8 * i)) & 0xff));
  for (int i = 0; i < 8; ++i) m.push_back(static_cast<char>((position >> (8 * i)) & 0xff));
  m.append(reinterpret_cast<const char*>(h.data()), h.size());
  return m;
}

template <std::size_t N>
bool from_hex(std::string_view hex, std::array<std::uint8_t, N>& out) {
  std::size_t len = 0;
  return hex.size() == 2 * N &&
         sodium_hex2bin(out.data(), N, hex.data(), hex.size(), nullptr, &len, nullptr) == 0 && len == N;
}

std::string str(const boost::json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::string to_hex(const std::uint8_t* p, std::size_t n) {
  std::string out(2 * n + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}

Signer::Signer(const KeyVault& vault) {
  // blind_index is a keyed BLAKE2b-256 under a master-derived key: a KDF here.
  std::string seed_hex = vault.blind_index("audit-signing", "ed25519-v1");
  std::array<std::uint8_t, 32> seed{};
  from_hex(seed_hex, seed);
  crypto_sign_seed_keypair(pk_.data(), sk_.data(), seed.data());
  sodium_memzero(seed.data(), seed.size());
  sodium_memzero(seed_hex.data(), seed_hex.size());
}

Signer::~Signer() { sodium_memzero(sk_.data(), sk_.size()); }

std::string Signer::sign(std::uint32_t partition, std::uint64_t position, const Hash& chain_hash) const {
  const std::string m = message(partition, position, chain_hash);
  std::array<std::uint8_t, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(m.data()), m.size(), sk_.data());
  return to_hex(sig.data(), sig.size());
}

std::string checkpoint_stream(std::uint32_t partition, std::uint32_t partitions) {
  std::string name = fmt::format("audit-checkpoints-p{}", partition);
  for (std::uint32_t k = 1; placement_of(name, partitions) != partition; ++k)
    name = fmt::format("audit-checkpoints-p{}-{}", partition, k);
  return name;
}

boost::json::object to_json(const Checkpoint& c) {
  return {{"partition", c.partition},
          {"position", c.position},
          {"chain_hash", to_hex(c.chain_hash.data(), c.chain_hash.size())},
          {"public_key", to_hex(c.public_key.data(), c.public_key.size())},
          {"signature", c.signature}};
}

Result<Checkpoint> checkpoint_from_json(const boost::json::object& d) {
  Checkpoint c;
  auto* part = d.if_contains("partition");
  auto* pos = d.if_contains("position");
  if (!part || !pos || !part->is_number() || !pos->is_number())
    return Error::corruption("a checkpoint lacks its partition or position");
  boost::system::error_code ec;
  c.partition = part->to_number<std::uint32_t>(ec);
  if (!ec) c.position = pos->to_number<std::uint64_t>(ec);
  if (ec) return Error::corruption("a checkpoint's partition or position is out of range");
  if (!from_hex(str(d, "chain_hash"), c.chain_hash) || !from_hex(str(d, "public_key"), c.public_key))
    return Error::corruption("a checkpoint's hash or public key is not 32 bytes of hex");
  c.signature = str(d, "signature");
  if (c.signature.size() != 2 * crypto_sign_BYTES) return Error::corruption("a checkpoint's signature is malformed");
  return c;
}

bool signature_valid(const Checkpoint& c, const PublicKey& key) {
  if (c.public_key != key) return false;
  std::array<std::uint8_t, crypto_sign_BYTES> sig{};
  if (!from_hex(c.signature, sig)) return false;
  const std::string m = message(c.partition, c.position, c.chain_hash);
  return crypto_sign_verify_detached(sig.data(), reinterpret_cast<const unsigned char*>(m.data()), m.size(),
                                     key.data()) == 0;
}

Result<PublicKey> parse_public_key(std::string_view hex) {
  PublicKey k{};
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back()))) hex.remove_suffix(1);
  if (!from_hex(hex, k)) return Error::invalid("the public key must be 64 hex digits");
  return k;
}

}  // namespace causeway::audit
