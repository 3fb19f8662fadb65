// How many connections the server holds open, in total and per peer address,
// and the bounded warning for those it turns away.
//
// Admission is a ticket: admit() returns one while the connection may stay,
// and the ticket's destruction gives its place back. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace causeway::api {

class ConnectionLimits {
 public:
  // `total` and `per_peer` of 0 mean no limit.
  ConnectionLimits(std::size_t total, std::size_t per_peer) : total_(total), per_peer_(per_peer) {}

  class Ticket {
   public:
    Ticket(ConnectionLimits* owner, std::string peer) : owner_(owner), peer_(std::move(peer)) {}
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { owner_->release(peer_); }

   private:
    ConnectionLimits* owner_;
    std::string peer_;
  };

  // Why admit() turned a connection away.
  enum class Refusal { none, total, per_peer };

  // A ticket for a connection from `peer`, or null when it would pass a limit
  // (then `why` says which).
  std::unique_ptr<Ticket> admit(const std::string& peer, Refusal& why);

  std::size_t open() const;

 private:
  void release(const std::string& peer);

  const std::size_t total_, per_peer_;
  mutable std::mutex mu_;
  std::size_t open_ = 0;
  std::unordered_map<std::string, std::size_t> by_peer_;
};

// The descriptor limit of this process (RLIMIT_NOFILE, soft) and the default
// of ServerConfig::max_connections derived from it: three quarters, leaving
// the rest to the log, the views, the pools and outgoing calls.
std::size_t descriptor_limit();
std::size_t default_max_connections();

// A warning written at most once per `every`, with how many were held back
// since the last one written. Thread-safe.
class BoundedWarning {
 public:
  explicit BoundedWarning(std::chrono::steady_clock::duration every) : every_(every) {}
  // Whether to write now; `suppressed` is then the count held back before it.
  bool due(std::uint64_t& suppressed);

 private:
  const std::chrono::steady_clock::duration every_;
  std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  std::uint64_t held_ = 0;
};

}  // namespace causeway::api
