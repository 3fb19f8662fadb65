#include "engine/password_policy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <string>

namespace causeway {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Passwords of 12 or more characters that lists of breached passwords rank highest.
constexpr std::array<std::string_view, 32> kCommon = {
    "123456789012", "1234567890123", "12345678901234", "123456123456", "password1234", "password12345",
    "passwordpassword", "qwertyuiopas", "qwertyuiop123", "1q2w3e4r5t6y", "1qaz2wsx3edc", "qazwsxedcrfv",
    "iloveyou1234", "abcdefghijkl", "abc123abc123", "letmein12345", "welcome12345", "adminadmin123",
    "administrator", "changeme1234", "football1234", "baseball1234", "superman1234", "trustno1trustno1",
    "monkey123456", "dragon123456", "sunshine1234", "princess1234", "1234qwerasdf", "asdfghjkl123",
    "zxcvbnm12345", "0987654321qw"};

}  // namespace

Status check_password_policy(std::string_view password, std::string_view email, std::string_view display_name) {
  std::set<char> distinct(password.begin(), password.end());
  if (distinct.size() < 5)
    return Error::invalid("password rule \"distinct\": use at least 5 different characters", "/password");
  const std::string p = lower(password);
  const std::string local = lower(email.substr(0, email.find('@')));
  if (local.size() >= 4 && p.find(local) != std::string::npos)
    return Error::invalid("password rule \"personal\": the password must not contain your email address", "/password");
  const std::string name = lower(display_name);
  if (name.size() >= 4 && p.find(name) != std::string::npos)
    return Error::invalid("password rule \"personal\": the password must not contain your name", "/password");
  if (std::find(kCommon.begin(), kCommon.end(), p) != kCommon.end())
    return Error::invalid("password rule \"common\": this password is among the most used ones; choose another",
                          "/password");
  return ok_status();
}

}  // namespace causeway
