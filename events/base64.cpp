#include "events/base64.h"

#include <sodium.h>

#include <cstring>

namespace causeway {

namespace {
int variant(Base64 a) {
  return a == Base64::standard ? sodium_base64_VARIANT_ORIGINAL : sodium_base64_VARIANT_URLSAFE_NO_PADDING;
}
}  // namespace

std::string base64_encode(std::string_view raw, Base64 alphabet) {
  std::string out(sodium_base64_encoded_len(raw.size(), variant(alphabet)), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                    variant(alphabet));
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, Base64 alphabet) {
  std::string out(text.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &len, nullptr, variant(alphabet)) != 0)
    return std::nullopt;
  out.resize(len);
  return out;
}

}  // namespace causeway
