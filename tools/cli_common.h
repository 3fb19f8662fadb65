// What every `causeway` subcommand shares: opening the data folder's log,
// turning an Error into a message on stderr and an exit code, and printing
// JSON. Exit codes (tools/README.md, "Exit codes"): 0 success, 2 a refused
// command line or a failed command, 3 damaged data or a failed check.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "events/rocks/rocks_log.h"

namespace causeway::cli {

inline constexpr int kExitError = 2;    // a refused command line, or the command failed
inline constexpr int kExitDamaged = 3;  // corruption or a failed check

// The process holding the log's RocksDB lock (<data>/log/LOCK), or 0 when
// none does. RocksDB locks it with fcntl(F_SETLK); F_GETLK asks without
// taking it or writing anything, so it is safe beside a running server.
inline pid_t log_lock_holder(const std::string& data_dir) {
  const int fd = ::open((data_dir + "/log/LOCK").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  const bool held = ::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  ::close(fd);
  return held ? probe.l_pid : 0;
}

// The one wording of "a running server holds this data folder".
inline Error in_use(const std::string& data_dir) {
  return Error::conflict(data_dir + " is in use by a running server (" + data_dir +
                         "/log/LOCK); stop it first or use the HTTP API");
}
inline bool is_in_use(const Error& e) {
  return e.code == Errc::conflict && e.message.find("is in use by a running server") != std::string::npos;
}

// RocksDB's own words for a lock another process holds ("IO error: While lock
// file: …/LOCK: Resource temporarily unavailable").
inline bool is_rocks_lock_error(const Error& e) {
  return e.message.find("While lock file") != std::string::npos ||
         e.message.find("lock hold by current process") != std::string::npos;
}

// in_use() when a server holds the data folder, for commands that must not
// touch it then.
inline Status not_in_use(const std::string& data_dir) {
  if (log_lock_holder(data_dir) != 0) return in_use(data_dir);
  return ok_status();
}

// Opens <data>/log; a log that a server holds is reported as in_use(). A
// read-write open asks about the lock first: RocksDB sets up its info LOG file
// in the data folder (renaming the server's) before it finds the lock taken.
inline Result<std::unique_ptr<RocksEventLog>> open_log(const std::string& data_dir, bool read_only = true) {
  if (auto free = read_only ? ok_status() : not_in_use(data_dir); !free) return std::move(free).error();
  RocksLogOptions o;
  o.path = data_dir + "/log";
  o.read_only = read_only;
  auto log = RocksEventLog::open(o);
  if (!log && is_rocks_lock_error(log.error())) return in_use(data_dir);
  return log;
}

inline int fail(const Error& e) {
  std::cerr << "causeway: " << e.message << "\n";
  return e.code == Errc::corruption ? kExitDamaged : kExitError;
}

// Every command prints JSON as whole lines: one value, then a newline.
inline void print_json(const boost::json::value& v, std::ostream& out = std::cout) {
  out << boost::json::serialize(v) << '\n';
}
// JSON text from elsewhere (a server's reply), ending with exactly one newline.
inline void print_json_text(std::string_view text, std::ostream& out = std::cout) {
  if (text.empty()) return;
  out << text;
  if (text.back() != '\n') out << '\n';
}

}  // namespace causeway::cli
