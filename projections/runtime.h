// ProjectionRuntime: keeps the SQLite views equal to a replay of the log.
//
// One worker thread follows every partition of the log from the projections'
// checkpoints. For each batch it opens one SQLite transaction; inside it every
// projection applies the events past its own checkpoint within a SAVEPOINT and
// writes its new checkpoint, then the transaction commits — so an event takes
// effect exactly once, across crashes (contract 6). Checkpoints are kept per
// projection and partition, so the same runtime serves a P-partition log.
//
// A poison event (apply fails) rolls back that projection's part of the batch
// and stops that projection with an error naming the position, the event id and
// its type; the others go on. It is never skipped: the projection retries from
// its checkpoint when the server restarts or the projection is rebuilt.
//
// Rebuild without downtime: request_rebuild() replays the named projections
// into a new generation (view_files.h) with bulk-load settings while the live
// generation keeps answering, copying the other projections' tables as they
// stand; the worker then catches the new generation up, syncs it and publishes
// it atomically. A projection whose version or schema hash differs from the
// stored one is frozen (still answering with its old rows) and rebuilt at start.
//
// Lifecycle: open() (recovers or creates the views), start(), stop() (joins the
// worker and any rebuild; a rebuild requested after it is refused). Thread
// safety: every public method may be called from any thread.
//
// The parts: view_set.h (a generation open for writing and where each
// projection stands), batch_applier.h (one batch, exactly once; a replay),
// generation_builder.h (a rebuild's new generation), projection_status.h
// (state and lag); this file runs them on the worker and rebuilder threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "events/clock.h"
#include "events/event_log.h"
#include "events/upcast.h"
#include "projections/batch_applier.h"
#include "projections/projection.h"
#include "projections/projection_status.h"
#include "projections/view_files.h"

namespace causeway {

struct ViewSet;  // projections/view_set.h

class ProjectionRuntime {
 public:
  struct Options {
    std::string data_dir;
    std::size_t batch = 1024;
    std::chrono::milliseconds poll{200};
    // Under load (a batch of at least `gather_from` events, but not a full
    // one: then more are waiting already), the worker lets events gather for
    // `gather` after a batch began before it reads the next: fewer, larger
    // transactions, for at most `gather` more lag. 0: never.
    std::chrono::milliseconds gather{5};
    std::size_t gather_from = 16;
    const Clock* clock = nullptr;  // for lag; system clock when null
  };
  // Observes each committed batch (partition, its events, commit time in µs),
  // on the worker thread: metrics and the lag benchmark. Null to stop.
  using Observer = std::function<void(std::uint32_t, const std::vector<Event>&, std::int64_t)>;
  void observe(Observer o);

  // Opens (or creates) the views and takes the writer lock.
  static Result<std::unique_ptr<ProjectionRuntime>> open(EventLog& log, const Upcaster& upcaster, Options opts);
  ~ProjectionRuntime();

  void start();
  void stop();

  // What `projection` has applied, per partition (all projections: the minimum).
  PositionToken applied(const std::string& projection = {}) const;
  bool knows(const std::string& projection) const;
  // The error that stopped `projection` (empty name: any projection), empty while it runs.
  std::string failure(const std::string& projection) const;
  std::vector<ProjectionStatus> status() const;

  // Starts a background rebuild of `names` (empty = all). Errc::conflict while
  // one is running, Errc::not_found for an unknown name.
  Status request_rebuild(std::vector<std::string> names);
  bool rebuilding() const;
  // The last runtime-level failure (a failed batch write, a failed rebuild), empty when fine.
  std::string last_error() const;

  // Calls `wake` (from the worker thread; it must not block) after the next
  // committed batch or generation switch. One-shot.
  void notify_once(std::function<void()> wake);

  // Replays `names` (empty = all) into a new generation and publishes it, in
  // this thread, with no runtime running: `causeway projections rebuild`.
  // The caller must hold the writer lock (ViewFiles::lock_writer).
  static Status rebuild_offline(EventLog& log, const Upcaster& upcaster, const std::string& data_dir,
                                std::vector<std::string> names, const ProgressFn& progress);

  // The stored state of the views in `data_dir`, read-only (safe while a server
  // runs): `causeway projections status`. A stored version or schema that
  // differs from the code's shows as "frozen" (it rebuilds at the next start).
  static Result<std::vector<ProjectionStatus>> stored_status(EventLog& log, const std::string& data_dir);

 private:
  ProjectionRuntime(EventLog& log, const Upcaster& upcaster, Options opts);
  void run();
  // The largest batch applied (0: nothing to apply).
  std::size_t step_once();
  void switch_to_pending();
  void rebuild_main(std::set<std::string> names);
  void wake_waiters();

  EventLog& log_;
  const Upcaster& upcaster_;
  Options opts_;
  SystemClock system_clock_;
  ViewFiles files_;

  mutable std::mutex mu_;  // guards live_ tracks' published copy, pending_, waiters_
  std::unique_ptr<ViewSet> live_;
  std::unique_ptr<ViewSet> pending_;  // a finished rebuild waiting for the worker
  std::set<std::string> rebuilding_;
  std::vector<std::function<void()>> waiters_;
  std::string last_error_;
  Observer observer_;  // guarded by mu_

  std::atomic<bool> stop_{false};
  std::thread worker_;
  std::mutex rebuilder_mu_;  // guards rebuilder_ (request_rebuild and stop may run on two threads)
  std::thread rebuilder_;
};

}  // namespace causeway
