// Checkpointer: appends signed checkpoints of the audit chain (signing.h) to
// the log — after every `every_events` events, and at least every `every` while
// anything else was written — and on demand before an export, so an export
// always ends under a signature.
//
// A checkpoint is itself an event, so "anything written since the last one"
// ignores the checkpointer's own events: an idle log gets no new checkpoints.
//
// Lifecycle: start() runs one thread; stop() joins it (prompt: the log's
// wait_past wakes it). checkpoint_now() may be called from any thread, with or
// without start(); calls are serialized.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/audit/signing.h"
#include "events/clock.h"
#include "events/event_log.h"

namespace causeway::audit {

class Checkpointer {
 public:
  struct Options {
    std::uint64_t every_events = 1000;      // 0: no count trigger
    std::chrono::seconds every{60};         // 0: no time trigger
    // Told of each background checkpoint that failed (retried on the next
    // tick); the node logs it.
    std::function<void(const Error&)> on_failure;
  };
  Checkpointer(EventLog& log, const Signer& signer, const Clock& clock, Options opts);
  ~Checkpointer();

  void start();
  void stop();

  // Makes sure a durable checkpoint covers the current head of every partition
  // (appending one where needed) and returns the covering checkpoints.
  Result<std::vector<Checkpoint>> checkpoint_now();

  // The newest checkpoint of every partition as the log holds it, appending
  // nothing: where a read-only server (serve --read-only) ends an export.
  // Errc::conflict when a partition has none yet; Errc::corruption when the
  // stored checkpoint does not parse.
  Result<std::vector<Checkpoint>> latest_stored() const;

 private:
  void run();

  EventLog& log_;
  const Signer& signer_;
  const Clock& clock_;
  Options opts_;
  std::mutex mu_;                             // serializes checkpoint_now
  std::vector<std::uint64_t> covered_;        // per partition: position the last checkpoint signs
  std::vector<std::uint64_t> own_;            // per partition: position of the last checkpoint event
  std::vector<Checkpoint> last_;
  std::int64_t last_at_us_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace causeway::audit
