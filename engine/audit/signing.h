// Signed checkpoints of the audit chain (contract 8).
//
// A checkpoint states "the hash chain of partition p, up to and including
// position n, ends in hash h" and is signed with Ed25519. Because each entry's
// hash covers the previous one, a verified checkpoint authenticates every
// entry up to n; a third party needs only the public key.
//
//   signed message = "causeway.audit.checkpoint.v1" 0x00 || u32 partition (LE)
//                    || u64 position (LE) || h (32 bytes)
//
// Checkpoints are events on the log ("audit.checkpoint", stream
// "audit-checkpoints-p<partition>", payload: partition, position, chain_hash,
// public_key, signature — all hex), so exports and replicas carry them.
//
// The signing key is derived from the master key (keyed BLAKE2b of a fixed
// label, then crypto_sign_seed_keypair): nothing new to store, and the same
// data folder always signs with the same key. `causeway audit public-key`
// prints the public half for verifiers.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <boost/json/object.hpp>

#include "events/envelope.h"
#include "events/key_vault.h"
#include "events/result.h"

namespace causeway::audit {

using PublicKey = std::array<std::uint8_t, 32>;

class Signer {
 public:
  explicit Signer(const KeyVault& vault);
  ~Signer();
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  const PublicKey& public_key() const { return pk_; }
  std::string sign(std::uint32_t partition, std::uint64_t position, const Hash& chain_hash) const;  // hex

 private:
  PublicKey pk_{};
  std::array<std::uint8_t, 64> sk_{};
};

// The checkpoint event's payload, and the check of one against a public key.
struct Checkpoint {
  std::uint32_t partition = 0;
  std::uint64_t position = 0;
  Hash chain_hash{};
  PublicKey public_key{};
  std::string signature;  // hex, 128 digits
};
inline constexpr const char* kCheckpointType = "audit.checkpoint";
// The stream holding partition `partition`'s checkpoints, placed on that
// partition of a log with `partitions` partitions (events/placement.h), so a
// checkpoint signs entries of the chain it is part of: "audit-checkpoints-p<p>",
// or "audit-checkpoints-p<p>-<k>" with the smallest k that places it there.
std::string checkpoint_stream(std::uint32_t partition, std::uint32_t partitions);

boost::json::object to_json(const Checkpoint& c);
Result<Checkpoint> checkpoint_from_json(const boost::json::object& data);
// True when `c` is signed by `key` (and by nobody else).
bool signature_valid(const Checkpoint& c, const PublicKey& key);

std::string to_hex(const std::uint8_t* p, std::size_t n);
Result<PublicKey> parse_public_key(std::string_view hex);

}  // namespace causeway::audit
