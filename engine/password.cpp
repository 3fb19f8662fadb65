#include "engine/password.h"

#include <sodium.h>

#include <algorithm>

namespace causeway {

Result<std::string> hash_password(std::string_view password, const PasswordParams& p) {
  char out[crypto_pwhash_STRBYTES];
  auto ops = std::max<unsigned long long>(p.opslimit, crypto_pwhash_OPSLIMIT_MIN);
  auto mem = std::max<std::size_t>(p.memlimit, crypto_pwhash_MEMLIMIT_MIN);
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Error::unavailable("password hashing ran out of memory");
  return std::string(out);
}

bool verify_password(std::string_view encoded, std::string_view password) {
  std::string enc(encoded);  // needs a NUL-terminated string
  return crypto_pwhash_str_verify(enc.c_str(), password.data(), password.size()) == 0;
}

}  // namespace causeway
