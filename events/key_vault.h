// Key vault: per-subject data keys for personal fields (contract 7).
//
// Each data subject ("user-…") gets a random 256-bit data key the first time a
// personal field about it is sealed. Data keys are stored wrapped (XChaCha20-
// Poly1305 under the master key, additional data = subject id) in a KeyStore —
// outside the log. forget() destroys the wrapped key durably: every sealed field
// of that subject, in any copy, becomes unreadable, while the log's hash chain
// (computed over ciphertext) still verifies.
//
// Retention buckets (engine/retention.h) are keys of the same kind, named
// "ret~<yyyy-mm-dd>~<tenant>~<category>". A field sealed under a bucket needs
// both keys: destroying either (erasure of the subject, or expiry of the
// bucket under a retention policy) makes it unreadable.
//
// Sealed field formats (docs/formats.md): the JSON value is replaced by
//   {"$sealed":"v1","sub":"<subject>","ct":"<base64(nonce24 || ciphertext+tag)>"}
// (key: the subject's; additional data: the subject id) or, under a bucket, by
//   {"$sealed":"v2","sub":"<subject>","ret":"<bucket>","ct":"<base64(...)>"}
// (key: BLAKE2b-256 keyed by the subject's key over "causeway/field/v2" || the
// bucket's key; additional data: subject id, 0x1f, bucket id). The plaintext is
// the field's JSON text.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json/value.hpp>

#include "events/result.h"

namespace causeway {

using SecretKey = std::array<std::uint8_t, 32>;

// Where wrapped keys live. put_sync/erase_sync return only once durable.
class KeyStore {
 public:
  virtual ~KeyStore() = default;
  virtual Result<std::optional<std::string>> get(const std::string& subject) = 0;
  virtual Status put_sync(const std::string& subject, const std::string& wrapped) = 0;
  virtual Status erase_sync(const std::string& subject) = 0;
  // Ids in [first, last), ascending.
  virtual Result<std::vector<std::string>> ids_between(const std::string& first, const std::string& last) = 0;
};

class KeyVault {
 public:
  KeyVault(std::shared_ptr<KeyStore> store, const SecretKey& master);
  ~KeyVault();

  // The subject's key, created (and stored durably) when missing. Fails with
  // Errc::forbidden if the subject was forgotten: nothing new is sealed for them.
  Result<SecretKey> key_for(const std::string& subject);
  // The subject's key if it exists; nullopt once forgotten or never created.
  Result<std::optional<SecretKey>> find(const std::string& subject);
  // Destroys the subject's key durably and remembers the subject as forgotten.
  Status forget(const std::string& subject);

  // Replace `value` by its sealed form for `subject`: v1 when `bucket` is
  // empty, else v2 under the retention bucket too (created when missing).
  Result<boost::json::value> seal(const std::string& subject, const boost::json::value& value,
                                  const std::string& bucket = {});
  // Open every sealed field inside `doc` in place. A field whose subject key is
  // gone becomes the string "[erased]"; one whose bucket key is gone (and the
  // subject's is not), "[expired]". Fails only on corruption (bad tag).
  Status open_all(boost::json::value& doc);

  // Retention buckets whose id sorts in ["ret~", `before`), ascending.
  Result<std::vector<std::string>> buckets_before(const std::string& before);
  // Deletes a bucket's key durably. Unlike forget(), nothing is remembered: a
  // bucket is only ever created for the current day, so it is never reused.
  Status destroy_bucket(const std::string& bucket);

  // Keyed hash for lookups that must not reveal a value (unique email index).
  std::string blind_index(std::string_view domain, std::string_view value) const;

 private:
  struct Stored {
    enum Kind { absent, forgotten, present } kind;
    SecretKey key;
  };
  Result<Stored> read_stored(const std::string& subject);
  void cache_locked(const std::string& subject, const SecretKey& k);  // mu_ held
  std::shared_ptr<KeyStore> store_;
  SecretKey master_;
  std::mutex mu_;
  std::unordered_map<std::string, SecretKey> cache_;  // bounded: cleared when large
  std::uint64_t erasures_ = 0;  // bumped by forget(); a find() that raced one does not cache
};

bool is_sealed(const boost::json::value& v);

// fsyncs the folder holding `path`, so a newly created file survives power loss.
bool sync_parent_dir(const std::string& path);

// Creates `path` (mode 0600, must not exist) holding `content` and a newline,
// durably: the file and its folder are fsynced.
Status create_secret_file(const std::string& path, std::string_view content);

// The master key: from 64 hex characters, or from a file holding them.
Result<SecretKey> parse_master_key_hex(std::string_view hex);
// Loads `path`, or creates it (mode 0600) with a fresh random key when missing;
// `created` tells the caller to warn loudly.
Result<SecretKey> load_or_create_master_key(const std::string& path, bool& created);

}  // namespace causeway
