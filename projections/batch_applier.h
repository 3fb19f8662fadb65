// Applying the log to a views generation, exactly once (ARCHITECTURE.md
// contract 6). Internal to the projection runtime.
//
// apply_batch: one batch of one partition, one SQLite transaction; every
// running projection applies the events past its own checkpoint inside a
// SAVEPOINT and writes its new checkpoint in the same transaction. A poison
// event (apply fails) rolls back that projection's part, re-applies the events
// before it and stops the projection there with an error naming the position,
// event id and type; the others go on. The tracks change only once the
// transaction has committed.
//
// replay_to: batches of every partition, one partition after another, until
// every running projection has reached `until` (a rebuild's replay).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "events/event_log.h"
#include "events/upcast.h"
#include "projections/view_set.h"

namespace causeway {

// Called with the progress of a replay (a terminal bar in the CLI).
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

// `publish_mu` (when the set is visible to other threads) guards the tracks' update.
Status apply_batch(ViewSet& vs, std::uint32_t partition, const std::vector<Event>& events, const Upcaster& upcaster,
                   std::mutex* publish_mu = nullptr);

// `stop` (may be null) ends the replay early with Errc::unavailable.
Status replay_to(EventLog& log, const Upcaster& upcaster, ViewSet& vs, const PositionToken& until,
                 std::size_t batch, const ProgressFn& progress, const std::atomic<bool>* stop);

}  // namespace causeway
