// The mail the outbox's file sink delivered (engine/mail/transport.h): every
// `<data>/mail/<owner>/<id>.eml`, read once there are at least `n` of them or
// the deadline passed (the sender runs on its own thread; there is nothing to
// wait on but its files).
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace causeway::testing {

inline std::vector<std::string> mail_files(const std::string& data_dir, std::size_t n,
                                           std::chrono::seconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(data_dir + "/mail", ec)) {
      if (e.path().extension() != ".eml") continue;
      std::ifstream in(e.path());
      std::stringstream ss;
      ss << in.rdbuf();
      out.push_back(ss.str());
    }
    if (out.size() >= n || std::chrono::steady_clock::now() > deadline) return out;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// The first "token=..." of a mail's text (the link's token), or "".
inline std::string token_in(const std::string& message) {
  const auto at = message.find("token=");
  if (at == std::string::npos) return {};
  auto end = message.find_first_of("\r\n \t", at);
  return message.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6);
}

// The link's token of the first delivered mail to `to` whose text has
// `what`, polled until it is there or the deadline passed ("" then).
inline std::string token_of_mail(const std::string& data_dir, const std::string& to, const std::string& what,
                                 std::chrono::seconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (const auto& m : mail_files(data_dir, 0))
      if (m.find("To: " + to) != std::string::npos && m.find(what) != std::string::npos) return token_in(m);
    if (std::chrono::steady_clock::now() > deadline) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace causeway::testing
