#include <doctest/doctest.h>

#include <cstring>

#include "engine/totp.h"

using namespace causeway;

namespace {
// RFC 6238 appendix B: the SHA-1 secret is the ASCII "12345678901234567890".
totp::Secret rfc_secret() {
  totp::Secret s;
  std::memcpy(s.data(), "12345678901234567890", 20);
  return s;
}
}  // namespace

TEST_CASE("totp codes match the RFC 6238 SHA-1 test vectors (last 6 digits)") {
  const auto s = rfc_secret();
  CHECK(totp::code_at(s, 59 / 30) == "287082");
  CHECK(totp::code_at(s, 1111111109 / 30) == "081804");
  CHECK(totp::code_at(s, 1111111111 / 30) == "050471");
  CHECK(totp::code_at(s, 1234567890 / 30) == "005924");
  CHECK(totp::code_at(s, 2000000000 / 30) == "279037");
  CHECK(totp::code_at(s, 20000000000 / 30) == "353130");
}

TEST_CASE("a totp code is accepted one step either side, once, and never an older one") {
  const auto s = rfc_secret();
  const std::int64_t now = 1111111111LL * 1'000'000;
  const auto step = totp::step_of(now);
  CHECK(totp::match(s, totp::code_at(s, step), now, 0) == step);
  CHECK(totp::match(s, totp::code_at(s, step - 1), now, 0) == step - 1);
  CHECK(totp::match(s, totp::code_at(s, step + 1), now, 0) == step + 1);
  CHECK_FALSE(totp::match(s, totp::code_at(s, step - 2), now, 0));
  CHECK_FALSE(totp::match(s, totp::code_at(s, step), now, step));  // already used
  CHECK_FALSE(totp::match(s, "12345", now, 0));
}

TEST_CASE("totp secrets round-trip through base32 and the otpauth URI names issuer and account") {
  const auto s = rfc_secret();
  CHECK(totp::base32(s) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  CHECK(totp::from_base32(totp::base32(s)) == s);
  CHECK_FALSE(totp::from_base32("not base32!"));
  CHECK(totp::otpauth_uri("Causeway", "ann@example.com", s) ==
        "otpauth://totp/Causeway:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Causeway"
        "&algorithm=SHA1&digits=6&period=30");
}
