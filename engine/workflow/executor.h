// Executor: drives workflow runs — the only part of the engine with side
// effects on the outside world (HTTP requests, timers).
//
// The run commands (engine/commands/run_commands.cpp) decide; the executor
// performs and feeds back. For each run that has not ended it keeps a slot:
//   - after any commit on the run it sends the actions the run awaits
//     (workflow::pending_effects) that are not already in flight;
//   - each outcome is fed back with run.advance (durable before the next
//     step is decided);
//   - timers: it wakes at the run's earliest due time and runs run.advance,
//     which fires whatever is due by the injected clock.
// One drive per run at a time: commands on one run never race each other.
//
// Crash safety: run.step_started is durable before a request is sent, so a
// restart finds every attempt that may have been sent without its outcome
// recorded (recover_workflows(), recovery.h) and sends it again with the same Idempotency-Key — a
// retry the receiver can deduplicate, never a second, different action.
//
// Every request carries Idempotency-Key and Causeway-Signature (HMAC-SHA256
// with the organization's webhook secret, webhook_secret()).
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "engine/workflow/catalog.h"
#include "engine/workflow/egress.h"
#include "engine/workflow/interpreter.h"
#include "events/clock.h"

namespace causeway {
class CommandPipeline;
}

namespace causeway::workflow {

class Executor {
 public:
  struct Options {
    std::int64_t stuck_check_interval_us = 60'000'000;
    std::int64_t max_sleep_us = 1'000'000;  // timers are re-checked at least this often
    // Where HTTP actions may connect (egress.h); null refuses every
    // special-use address.
    std::shared_ptr<const EgressPolicy> egress;
    // Told of a run that could not be marked stuck (the next check retries);
    // the node logs it.
    std::function<void(const std::string& run_id, const Error&)> on_mark_stuck_failure;
  };
  Executor(CommandPipeline& pipe, Catalog& catalog, boost::asio::any_io_executor io, const Clock& clock,
           Options opts);
  ~Executor();

  // Starts the timer loop (call once, after recover_workflows(), recovery.h,
  // has kicked the runs that had not ended).
  void start();
  // Stops waking runs; requests in flight finish on their own.
  void stop();

  // A command changed this run: drive it.
  void kick(const std::string& run_id);
  // Fires whatever is due by the clock now, and checks for stuck runs (the
  // timer loop calls it; tests with a manual clock call it directly).
  void tick();

  // An event was recorded: the runs of `org_id` waiting for `event_type` with
  // this correlation (since before `recorded_at_us`) receive it.
  void deliver(const std::string& org_id, const std::string& event_type, const std::string& correlation,
               std::uint64_t position, std::int64_t recorded_at_us, const boost::json::value& payload);

  // How many runs of `org_id` wait for `event_type` with this correlation now
  // (the runs deliver() would hand such an event to).
  std::size_t waiting_count(const std::string& org_id, const std::string& event_type,
                            const std::string& correlation) const;

  // Also called on every tick (the dispatcher's schedules); set before start().
  void on_tick(std::function<void()> hook) { tick_hook_ = std::move(hook); }
  // Called once per run the executor sees end (metrics, the benchmark); set
  // before any run starts.
  void on_ended(std::function<void(const std::string& run_id)> hook) { ended_hook_ = std::move(hook); }

  // The organization's webhook signing secrets at the clock's now, derived
  // from the master key and the secret's generation (organization.h): the
  // current one, and the previous one while its grace period lasts (empty
  // otherwise). HTTP actions are signed with both.
  struct WebhookSecrets {
    std::uint32_t generation = 0;
    std::string current;
    std::string previous;
    std::int64_t previous_until_us = 0;  // 0 when there is no previous one
  };
  Result<WebhookSecrets> webhook_secrets(const std::string& org_id) const;

  // Runs not ended that the executor drives (for metrics and tests).
  std::size_t active() const;
  std::uint64_t stuck_marked() const { return stuck_marked_.load(); }
  std::uint64_t advance_failures() const { return advance_failures_.load(); }

 private:
  struct Slot {
    bool busy = false;
    bool again = false;
    std::vector<Outcome> outcomes;
    std::vector<Arrival> arrivals;
    std::set<std::string> in_flight;  // "<node>#<visit>#<attempt>"
    std::int64_t due_us = 0;
    std::vector<std::string> waits;   // keys of waiting_ this run is under
  };
  static std::string wait_key(const std::string& org, const std::string& type, const std::string& correlation);
  void set_waits(Slot& slot, const std::string& run_id, std::vector<std::string> keys);  // mu_ held
  boost::asio::awaitable<void> drive(std::string run_id);
  boost::asio::awaitable<void> perform(std::string run_id, std::string org_id, Effect fx);
  boost::asio::awaitable<Outcome> http_effect(const std::string& org_id, const Effect& fx);
  boost::asio::awaitable<Outcome> start_child(const std::string& org_id, const Effect& fx);
  boost::asio::awaitable<void> ticker();
  // After a drive: sends the run's pending effects, notes its timer. False when it ended.
  bool sync(const std::string& run_id, std::vector<std::pair<std::string, Effect>>& to_send);
  void check_stuck();

  CommandPipeline& pipe_;
  Catalog& catalog_;
  boost::asio::any_io_executor io_;
  const Clock& clock_;
  Options opts_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Slot> slots_;
  std::unordered_map<std::string, std::set<std::string>> waiting_;  // wait_key -> run ids
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::atomic<bool> stopped_{false};
  std::function<void()> tick_hook_;
  std::function<void(const std::string&)> ended_hook_;
  std::atomic<std::int64_t> last_stuck_check_us_{0};
  std::atomic<std::uint64_t> stuck_marked_{0};
  std::atomic<std::uint64_t> advance_failures_{0};
};

}  // namespace causeway::workflow
