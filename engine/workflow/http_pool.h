// Idle keep-alive connections of http_call (plain http), so that a workflow's
// next request to the same receiver skips the TCP handshake and teardown.
//
// Contract:
//   - give() takes a connected socket's file descriptor that has just carried
//     a complete response allowing reuse, with nothing left unread. The pool
//     owns it from then on and closes it when it is dropped.
//   - take() hands back the newest idle connection for the same key (scheme,
//     host and port) that the peer has neither closed nor written to since: a
//     non-blocking peek checks that before it is handed out. Connections that
//     fail the check are closed and skipped.
//   - An idle connection is not handed out after Limits::idle_max; it is
//     closed at the next take() or give() (a sweep at most once a second),
//     so a peer's close may sit in CLOSE_WAIT until then. Beyond
//     Limits::per_key for one key or Limits::total in all, the oldest idle
//     connections are closed at once.
//   - Connections are bare file descriptors registered with no io_context, so
//     one given on one executor can be taken on another.
//
// A connection the peer closes at the very moment a request goes out still
// fails that request; http_call retries such a request once on a new
// connection when repeating it is safe (see http_call.h).
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace causeway::workflow {

class IdleConnections {
 public:
  using Clock = std::chrono::steady_clock;
  struct Connection {
    int fd = -1;
    bool v6 = false;  // the socket's address family, to adopt it again
  };

  struct Limits {
    // Below nginx's keep-alive timeout (75 s). Servers with shorter ones
    // (Apache and Node.js: 5 s) close first: the peek sees that, and a close
    // that crosses a request is retried when repeating it is safe.
    std::chrono::milliseconds idle_max{15000};
    std::size_t per_key = 128;
    std::size_t total = 512;
  };

  explicit IdleConnections(Limits limits) : limits_(limits) {}
  ~IdleConnections();  // closes every idle connection
  IdleConnections(const IdleConnections&) = delete;
  IdleConnections& operator=(const IdleConnections&) = delete;

  // The one pool http_call uses.
  static IdleConnections& process();  // default Limits

  std::optional<Connection> take(const std::string& key, Clock::time_point now);
  // Never throws: if the connection cannot be kept (out of memory), it is closed.
  void give(const std::string& key, Connection c, Clock::time_point now) noexcept;
  std::size_t size() const;

 private:
  struct Idle {
    Connection c;
    Clock::time_point since;
  };
  // Closes what has been idle too long; at most once a second. Holds mu_.
  void sweep_locked(Clock::time_point now);

  const Limits limits_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::deque<Idle>> idle_;  // newest at the back
  std::size_t count_ = 0;
  Clock::time_point last_sweep_{};
};

}  // namespace causeway::workflow
