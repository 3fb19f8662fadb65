// CatchUpSubscription: read a partition from a checkpoint, then follow it live.
//
// A thread reads batches with EventLog::read_forward from `from`, hands each to
// `handler`, and when caught up sleeps in EventLog::wait_past until the head
// moves (the wake-up) or `poll` passes. The handler returns the status of
// applying the batch; an error stops the subscription and is kept in error()
// — a poison event is never skipped.
//
// Lifecycle: start() once; stop() (or the destructor) joins the thread, which
// notices within one `poll` interval (or at once if the log moves or closes).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "events/event_log.h"

namespace causeway {

class CatchUpSubscription {
 public:
  using Handler = std::function<Status(const std::vector<Event>&)>;

  CatchUpSubscription(EventLog& log, std::uint32_t partition, std::uint64_t from, Handler handler,
                      std::size_t batch = 512, std::chrono::milliseconds poll = std::chrono::milliseconds(200));
  ~CatchUpSubscription();

  void start();
  void stop();
  std::uint64_t next_position() const { return next_.load(); }  // first position not yet handled
  std::optional<Error> error() const;

 private:
  void run();

  EventLog& log_;
  std::uint32_t partition_;
  std::atomic<std::uint64_t> next_;
  Handler handler_;
  std::size_t batch_;
  std::chrono::milliseconds poll_;
  std::atomic<bool> stop_{false};
  mutable std::mutex err_mu_;
  std::optional<Error> error_;
  std::thread thread_;
};

}  // namespace causeway
