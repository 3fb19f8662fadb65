// Password policy: the rules a new password must meet, each with a message
// that names it. Length (12 to 256) is in the command schema; these are the
// rules a schema cannot say. Checked before hashing, off the I/O threads.
//
//   distinct   at least 5 different characters ("aaaaaaaaaaaa", "abababababab")
//   personal   does not contain the email's local part or the display name
//              (4 characters or more, case-insensitive)
//   common     not one of the most used passwords, ignoring case
#pragma once

#include <string_view>

#include "events/result.h"

namespace causeway {

// ok, or Errc::invalid with pointer "/password" and a message naming the rule.
Status check_password_policy(std::string_view password, std::string_view email, std::string_view display_name);

}  // namespace causeway
