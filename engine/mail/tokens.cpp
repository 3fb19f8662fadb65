#include "engine/mail/tokens.h"

#include <sodium.h>

#include "engine/ids.h"

namespace causeway::mail {

namespace {
std::string mac_of(const KeyVault& vault, std::string_view purpose, std::string_view user_hex,
                   std::string_view token_id) {
  std::string msg(purpose);
  msg.push_back('\x1f');
  msg.append(user_hex).push_back('\x1f');
  msg.append(token_id);
  return vault.blind_index("account_token", msg);
}
}  // namespace

std::string make_account_token(const KeyVault& vault, std::string_view purpose, const std::string& user_id,
                               const std::string& token_id) {
  const std::string user_hex = user_id.substr(user_id.find('-') + 1);  // "user-<32 hex>" or "org-<32 hex>"
  return "cwt_" + user_hex + "_" + token_id + "_" + mac_of(vault, purpose, user_hex, token_id);
}

Result<TokenRef> check_account_token(const KeyVault& vault, std::string_view purpose, std::string_view token,
                                     std::string_view owner_prefix) {
  // cwt_ + 32 + _ + 32 + _ + 64
  if (token.size() != 4 + 32 + 1 + 32 + 1 + 64 || token.substr(0, 4) != "cwt_" || token[36] != '_' ||
      token[69] != '_')
    return Error::unauthorized("this link is not valid");
  const std::string_view user_hex = token.substr(4, 32), token_id = token.substr(37, 32), mac = token.substr(70);
  if (!is_lower_hex(user_hex) || !is_lower_hex(token_id) || !is_lower_hex(mac))
    return Error::unauthorized("this link is not valid");
  const std::string expected = mac_of(vault, purpose, user_hex, token_id);
  if (sodium_memcmp(expected.data(), mac.data(), expected.size()) != 0)
    return Error::unauthorized("this link is not valid");
  return TokenRef{std::string(owner_prefix) + std::string(user_hex), std::string(token_id)};
}

}  // namespace causeway::mail
