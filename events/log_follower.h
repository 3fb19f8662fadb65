// LogFollower: the one way to follow the log.
//
// Follows a set of partitions (every partition of the log by default) from a
// vector checkpoint — `next`, the first position not yet handled in each
// partition — handing the handler batches of one partition at a time, in that
// partition's order; partitions take turns, so none starves another. When
// every followed partition is caught up it sleeps in EventLog::wait_moved
// until some head passes what it has read (the wake-up an append gives) or
// `poll` passes (the bound on a missed wake-up). The handler returns the
// status of applying the batch; an error stops the follower and is kept in
// error() — a poison event is never skipped.
//
// Lifecycle: start() once; stop() (or the destructor) joins the thread, which
// notices within one `poll` (at once when the log moves or closes). next()
// may be read at any time; after stop() it is where a restart resumes.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "events/event_log.h"

namespace causeway {

class LogFollower {
 public:
  using Handler = std::function<Status(std::uint32_t partition, const std::vector<Event>& batch)>;
  struct Options {
    std::vector<std::uint32_t> partitions;  // empty: every partition of the log
    std::size_t batch = 512;
    std::chrono::milliseconds poll{200};
    HashCheck check = HashCheck::verify;
  };

  // `next` has one offset per partition of the log (0 reads as 1); a
  // shorter or empty one starts the missing partitions at 1.
  LogFollower(EventLog& log, PositionToken next, Handler handler, Options options);
  LogFollower(EventLog& log, PositionToken next, Handler handler) : LogFollower(log, std::move(next), std::move(handler), Options{}) {}
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  void start();
  void stop();
  PositionToken next() const;  // per partition: the first position not yet handled
  std::optional<Error> error() const;

 private:
  void run();
  // One batch of partition `p`: its size, or the error that stops the follower.
  Result<std::size_t> step(std::uint32_t p);

  EventLog& log_;
  Handler handler_;
  Options opts_;
  mutable std::mutex mu_;
  PositionToken next_;  // guarded by mu_
  std::optional<Error> error_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace causeway
