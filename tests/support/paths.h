// Where the tests find the `causeway` binary and the source tree.
//
// The paths are read at run time from `test_paths.txt`, which CMake writes
// beside the test executables (tests/CMakeLists.txt), not compiled in: an
// absolute path in a compile definition differs between two clones of the
// repository, so every test object would miss the compiler cache in CI's
// clean clone. Reading them from beside /proc/self/exe works the same under
// CTest and when a test executable is run by hand.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

namespace causeway::testing {

// The value of `key` in test_paths.txt (lines of key=value). Throws, naming
// the file, when the file or the key is missing: a test cannot run without it.
inline const std::string& test_path(const std::string& key) {
  static const std::map<std::string, std::string> paths = [] {
    const auto file = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "test_paths.txt";
    std::ifstream in(file);
    if (!in) throw std::runtime_error("missing " + file.string() + " (written by tests/CMakeLists.txt)");
    std::map<std::string, std::string> out;
    for (std::string line; std::getline(in, line);) {
      const auto eq = line.find('=');
      if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
  }();
  const auto it = paths.find(key);
  if (it == paths.end()) throw std::runtime_error("test_paths.txt has no " + key);
  return it->second;
}

// The `causeway` executable of this build.
inline const std::string& causeway_binary() { return test_path("binary"); }
// The repository's root folder.
inline const std::string& source_dir() { return test_path("source"); }
// The frozen samples of old persisted formats (tests/events/fixtures).
inline std::string fixtures_dir() { return source_dir() + "/tests/events/fixtures"; }

}  // namespace causeway::testing

// The names the tests have always used.
#define CAUSEWAY_BINARY (::causeway::testing::causeway_binary())
#define CAUSEWAY_FIXTURES (::causeway::testing::fixtures_dir())
