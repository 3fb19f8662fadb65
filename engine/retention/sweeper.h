// RetentionSweeper: enforces retention policies (engine/aggregates/retention.h)
// by destroying expired bucket keys — never by touching the log.
//
// One sweep, for every bucket key older than today (events/key_vault.h):
//   1. policy: the tenant's for the bucket's category, else the default ("all");
//      no policy keeps the bucket;
//   2. expired when the bucket's whole day is older than max_age_days;
//   3. held: a subject with an active legal hold has a field sealed under the
//      bucket (found by scanning that day's events) -> the bucket is kept and
//      reported; the next sweep after the hold's release expires it;
//   4. retention.enforced is appended (durable) on the scope's stream, then
//      the key is destroyed; at the end of the sweep every destroyed key's
//      copies are purged from disk (flush + compaction of the key column family).
// A crash between 4's two steps leaves the key: the next sweep destroys it
// without a second event (enforce is idempotent per bucket).
//
// Lifecycle: start() runs one thread that sweeps every `every`; stop() joins
// it. sweep_now() may be called from any thread (not from an io_context thread
// that the pipeline's appends complete on); sweeps are serialized.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/pipeline.h"

namespace causeway::retention {

struct SweepReport {
  std::int64_t ran_at_us = 0;
  std::uint64_t buckets_seen = 0;              // older than today
  std::vector<std::string> enforced;           // bucket ids whose key is now destroyed
  std::vector<std::string> held;               // expired but under a legal hold
  std::uint64_t kept = 0;                      // no policy, or not expired yet
  std::uint64_t events_scanned = 0;            // to find held subjects
};

class RetentionSweeper {
 public:
  struct Options {
    std::chrono::seconds every{3600};  // 0: no background sweeps
    // Told of each background sweep that failed (the next one retries); the
    // node logs it. A sweep on request returns its error instead.
    std::function<void(const Error&)> on_failure;
  };
  RetentionSweeper(CommandPipeline& pipeline, EventLog& log, KeyVault& vault, std::function<Status()> purge_keys,
                   Options opts);
  ~RetentionSweeper();

  void start();
  void stop();
  Result<SweepReport> sweep_now();

 private:
  void run();
  Result<CommandOutcome> execute(const std::string& command, boost::json::object body, const std::string& scope);

  CommandPipeline& pipeline_;
  EventLog& log_;
  KeyVault& vault_;
  std::function<Status()> purge_keys_;
  Options opts_;
  std::mutex sweep_mu_;  // serializes sweeps
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace causeway::retention
