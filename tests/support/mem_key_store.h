// An in-memory KeyStore that counts its durable writes, for tests that need a
// KeyVault without a log.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/key_vault.h"

namespace causeway::testing {

class MemKeyStore : public KeyStore {
 public:
  Result<std::optional<std::string>> get(const std::string& s) override {
    auto it = m.find(s);
    if (it == m.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status put_sync(const std::string& s, const std::string& w) override {
    m[s] = w;
    ++puts;
    return ok_status();
  }
  Status erase_sync(const std::string& s) override {
    m.erase(s);
    return ok_status();
  }
  Result<std::vector<std::string>> ids_between(const std::string& first, const std::string& last) override {
    std::vector<std::string> out;
    for (auto it = m.lower_bound(first); it != m.end() && it->first < last; ++it) out.push_back(it->first);
    return out;
  }
  std::map<std::string, std::string> m;
  int puts = 0;
};


}  // namespace causeway::testing
