// What every `causeway` subcommand shares: opening the data folder's log and
// turning an Error into a message on stderr and an exit code (2 for an error,
// 3 for corruption or a failed check).
#pragma once

#include <iostream>
#include <memory>
#include <string>

#include "events/rocks/rocks_log.h"

namespace causeway::cli {

inline Result<std::unique_ptr<RocksEventLog>> open_log(const std::string& data_dir, bool read_only = true) {
  RocksLogOptions o;
  o.path = data_dir + "/log";
  o.read_only = read_only;
  return RocksEventLog::open(o);
}

inline int fail(const Error& e) {
  std::cerr << "causeway: " << e.message << "\n";
  return e.code == Errc::corruption ? 3 : 2;
}

}  // namespace causeway::cli
