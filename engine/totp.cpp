#include "engine/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <fmt/format.h>

namespace causeway::totp {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
}

std::string code_at(const Secret& secret, std::int64_t step) {
  std::uint8_t msg[8];
  auto c = static_cast<std::uint64_t>(step);
  for (int i = 7; i >= 0; --i, c >>= 8) msg[i] = static_cast<std::uint8_t>(c & 0xff);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), msg, sizeof msg, mac, &len);
  const int offset = mac[19] & 0x0f;
  const std::uint32_t bin = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                            (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                            (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  return fmt::format("{:06}", bin % 1'000'000);
}

std::int64_t step_of(std::int64_t time_us) { return time_us / 1'000'000 / kStepSeconds; }

std::optional<std::int64_t> match(const Secret& secret, std::string_view code, std::int64_t now_us,
                                  std::int64_t last_used_step) {
  if (code.size() != 6) return std::nullopt;
  const std::int64_t now = step_of(now_us);
  std::optional<std::int64_t> found;
  for (std::int64_t step = now - 1; step <= now + 1; ++step) {
    const std::string expected = code_at(secret, step);
    if (sodium_memcmp(expected.data(), code.data(), 6) == 0 && step > last_used_step && !found) found = step;
  }
  return found;
}

std::string base32(const Secret& secret) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (auto b : secret) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<Secret> from_base32(std::string_view text) {
  Secret out{};
  std::size_t n = 0;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char ch : text) {
    const char* p = std::char_traits<char>::find(kAlphabet, 32, ch);
    if (!p) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(p - kAlphabet);
    bits += 5;
    if (bits >= 8) {
      if (n == out.size()) return std::nullopt;
      out[n++] = static_cast<std::uint8_t>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  if (n != out.size()) return std::nullopt;
  return out;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account, const Secret& secret) {
  auto enc = [](std::string_view s) { return boost::urls::encode(s, boost::urls::unreserved_chars); };
  return fmt::format("otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30", enc(issuer),
                     enc(account), base32(secret), enc(issuer));
}

}  // namespace causeway::totp
