// Dispatcher: turns recorded events into workflow runs and wake-ups.
//
// It follows every partition of the log (LogFollower) and, for each
// event of an organization:
//   - starts a run of every published workflow of that organization whose
//     event trigger matches (type, and the filter over `input` = the event's
//     payload) — only for events recorded after that version was published;
//   - hands the event to the runs of that organization waiting for it
//     (Executor::deliver), by type and correlation.
// The event a trigger or wait sees: for event.ingested (POST /v1/events) and
// run.event_emitted, their event_type, payload and correlation; for the
// engine's own events, their type and data (no correlation). Events with no
// tenant (e.g. a signup, before the user joins an organization) trigger
// nothing: a customer sends those through POST /v1/events.
//
// Schedules: tick() starts a run of every published workflow with a schedule
// trigger whose cron time has come (the latest one missed while the server
// was down is fired once, older ones are skipped).
//
// No double firing: a triggered run's id is derived from the workflow and the
// event's partition and position (or the schedule time), so starting it again
// after a restart finds it already there. The checkpoint file (positions
// handled) only saves re-reading; losing it is safe.
//
// Thread safety: start()/stop() from one thread; tick() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "engine/workflow/catalog.h"
#include "engine/pipeline.h"
#include "engine/workflow/executor.h"
#include "engine/workflow/startup_index.h"
#include "events/log_follower.h"

namespace causeway::workflow {

class Dispatcher {
 public:
  Dispatcher(CommandPipeline& pipe, Catalog& catalog, Executor& executor, boost::asio::any_io_executor io,
             std::string checkpoint_path);
  ~Dispatcher();

  // Reads the checkpoint: where each partition's subscription will start,
  // and the start-up index kept with it (restored_index()).
  Status open();
  // The trigger index is built from the log before start() (recovery.h):
  // each workflow.published / workflow.archived event before start_of(p).
  std::uint64_t start_of(std::uint32_t partition) const;
  void learn(const Event& workflow_event);
  // The start-up index (startup_index.h): restored by open() from beside the
  // checkpoint when it was saved there (it covers the positions before its
  // own `next`), kept up as the log is followed, saved with the checkpoint.
  bool restored_index() const { return restored_; }
  StartupIndex startup_index() const;
  void note(std::string_view type, const std::string& stream, const std::string& tenant, LogAddress at);
  void note_read(std::uint32_t partition, std::uint64_t next_position);  // StartupIndex::advance
  // Recovery has brought the index to the head: from now on it is saved with
  // the checkpoint (an index never brought up is not, so a start scans the log).
  void index_ready();
  void start();
  void stop();
  void tick();

  std::uint64_t started_runs() const { return started_.load(); }
  std::uint64_t failed_starts() const { return failed_.load(); }

  // What an event does to its organization's published workflows: one entry
  // per workflow whose event trigger matches it (type, publication before
  // `occurred_at_us`, filter over `payload`): the run it starts, with the id
  // derived from the workflow and the event's place in the log, or why none
  // can (`error`, `pointer` into the workflow's input: the payload does not
  // fit the declared input types). The dispatcher acts on exactly this, and
  // POST /v1/events reports it.
  struct TriggerOutcome {
    std::string workflow_id, run_id;
    std::int64_t version = 0;
    boost::json::object input;  // checked against the declared types (error empty)
    std::string error, pointer;
  };
  std::vector<TriggerOutcome> triggered(const std::string& org_id, const std::string& event_type,
                                        const boost::json::object& payload, std::uint32_t partition,
                                        std::uint64_t position, std::int64_t occurred_at_us);

  // triggered() as the reply of POST /v1/events reports it (IngestReport):
  //   {"runs": [{workflow_id, version, run_id}],
  //    "failures": [{workflow_id, version, run_id, error_class: "invalid_input", error, pointer}],
  //    "waiting_runs": <runs waiting for this type and correlation>}
  boost::json::object report(const std::string& org_id, const std::string& event_type,
                             const boost::json::object& payload, const std::string& correlation,
                             std::uint32_t partition, std::uint64_t position, std::int64_t occurred_at_us);

  // Called once per trigger failure recorded (run.trigger_failed), with the
  // organization: for the server's log. Set before start().
  void on_trigger_failed(std::function<void(const std::string& org_id, const TriggerOutcome&)> hook) {
    failure_hook_ = std::move(hook);
  }

 private:
  struct Trigger {
    std::string workflow_id, org_id, hash;
    std::int64_t version = 0;
    std::int64_t published_at = 0;
    std::shared_ptr<const Definition> def;
    std::int64_t next_fire_us = 0;  // schedules
  };
  void index(const Event& e, const boost::json::object& data);
  bool triggered_by(const std::string& type);  // some published workflow's event trigger names it
  // Whether a published workflow of `org_id` has an event trigger for `type` (before parsing anything).
  bool may_trigger(const std::string& org_id, const std::string& type, std::int64_t occurred_at_us);
  void record_failure(const std::string& org_id, const TriggerOutcome& o, boost::json::object trigger);
  Status handle(std::uint32_t partition, const std::vector<Event>& batch);
  void dispatch(const Event& e, const boost::json::object& data);
  // `wait`: block until started (subscription threads); else spawn (I/O threads).
  void start_run(const std::string& org_id, const std::string& workflow_id, std::int64_t version,
                 const std::string& run_id, boost::json::object input, boost::json::object trigger,
                 const std::string& subject, bool wait);
  boost::asio::awaitable<void> start_async(boost::json::value body, CommandContext ctx);
  void settle_start(const Result<CommandOutcome>& r, const std::string& run_id);
  void save_checkpoint();

  CommandPipeline& pipe_;
  Catalog& catalog_;
  Executor& executor_;
  boost::asio::any_io_executor io_;
  std::string checkpoint_path_;
  mutable std::mutex mu_;
  std::map<std::string, Trigger> triggers_;  // workflow id -> its latest published version, when it has a trigger
  std::vector<std::uint64_t> from_;          // per partition: first position to handle
  StartupIndex startup_;                     // guarded by mu_
  bool restored_ = false;
  bool index_ready_ = false;  // guarded by mu_
  std::unique_ptr<LogFollower> follower_;
  std::atomic<std::uint64_t> started_{0}, failed_{0};
  std::atomic<std::chrono::steady_clock::time_point> last_save_{};
  std::function<void(const std::string&, const TriggerOutcome&)> failure_hook_;
};

}  // namespace causeway::workflow
