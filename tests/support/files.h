// Raw-byte searches of a data folder: proves that no copy of a secret or of
// personal data is left in any file (log, WAL, SST, SQLite, backups).
#pragma once

#include <filesystem>
#include <fstream>
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

}  // namespace causeway::testing
