// Password hashing with argon2id (libsodium crypto_pwhash).
//
// hash_password is CPU- and memory-heavy by design; callers run it off the I/O
// threads (the pipeline offloads it to its CPU pool). Parameters are stored in
// the encoded hash, so raising them later still verifies old hashes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "events/result.h"

namespace causeway {

struct PasswordParams {
  unsigned long long opslimit = 2;          // libsodium's INTERACTIVE
  std::size_t memlimit = 64u * 1024 * 1024;  // 64 MiB
};

Result<std::string> hash_password(std::string_view password, const PasswordParams& p);
bool verify_password(std::string_view encoded, std::string_view password);

}  // namespace causeway
