// Base64 (RFC 4648) over libsodium, in the two alphabets Causeway writes:
// standard with padding (sealed fields, audit export entries) and URL-safe
// without padding (pagination cursors). Decoding rejects anything else.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace causeway {

enum class Base64 { standard, url };

std::string base64_encode(std::string_view raw, Base64 alphabet = Base64::standard);
std::optional<std::string> base64_decode(std::string_view text, Base64 alphabet = Base64::standard);

}  // namespace causeway
