// Raw-byte searches of a data folder: proves that no copy of a secret or of
// personal data is left in any file (log, WAL, SST, SQLite, backups).
#pragma once

#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace causeway::testing {

// Every file under `dir` (recursively) that contains `needle`.
inline std::vector<std::string> files_containing(const std::filesystem::path& dir, const std::string& needle) {
  std::vector<std::string> hits;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(needle) != std::string::npos) hits.push_back(f.path().string());
  }
  return hits;
}

// Every entry under `dir` (recursively, symlinks not followed), by relative
// path: its kind and permissions, and a file's size and BLAKE2b of its bytes or
// a link's target. Two equal digests mean no entry was added, removed, changed
// in its bytes, re-pointed or re-moded.
inline std::map<std::string, std::string> tree_digest(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const auto rel = e.path().lexically_relative(dir).string();  // fs::relative would follow links
    const auto st = e.symlink_status();
    std::string d = std::to_string(static_cast<unsigned>(st.permissions())) + " ";
    if (fs::is_symlink(st)) {
      d += "link " + fs::read_symlink(e.path()).string();
    } else if (fs::is_directory(st)) {
      d += "dir";
    } else {
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string bytes = ss.str();
      unsigned char h[crypto_generichash_BYTES];
      crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), nullptr, 0);
      char hex[sizeof h * 2 + 1];
      sodium_bin2hex(hex, sizeof hex, h, sizeof h);
      d += "file " + std::to_string(bytes.size()) + " " + hex;
    }
    out.emplace(rel, std::move(d));
  }
  return out;
}

}  // namespace causeway::testing
