// TOTP second factor (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps,
// 6 digits — what authenticator apps use by default — and the otpauth:// URI
// they scan from a QR code.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causeway::totp {

inline constexpr std::int64_t kStepSeconds = 30;
using Secret = std::array<std::uint8_t, 20>;  // 160 bits, as RFC 4226 recommends

std::string code_at(const Secret& secret, std::int64_t step);  // 6 digits
std::int64_t step_of(std::int64_t time_us);
// The step within ±1 of `now_us` whose code is `code` and which is later than
// `last_used_step` (a code is good once), if any. Compared in constant time.
std::optional<std::int64_t> match(const Secret& secret, std::string_view code, std::int64_t now_us,
                                  std::int64_t last_used_step);

std::string base32(const Secret& secret);  // RFC 4648, no padding
std::optional<Secret> from_base32(std::string_view text);
// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
std::string otpauth_uri(std::string_view issuer, std::string_view account, const Secret& secret);

}  // namespace causeway::totp
