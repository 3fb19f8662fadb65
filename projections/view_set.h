// ViewSet: one views generation open for writing — its SQLite connection, the
// projections, and where each stands (ProjectionTrack). Internal to the
// projection runtime (runtime.h, batch_applier.h, generation_builder.h).
//
// A generation is opened for serving (open_serving: WAL, new projections
// created in place, changed ones frozen) or built in bulk (generation_builder).
// Thread safety: none; the runtime guards a set other threads read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "events/result.h"
#include "projections/projection.h"
#include "projections/sqlite.h"

namespace causeway {

struct ProjectionTrack {
  // running: applies events; failed: stopped by a poison event; frozen: its
  // stored version or schema differs (rebuilt at start); idle: copied, not
  // applied, in a generation being built.
  enum class State { running, failed, frozen, idle };
  State state = State::running;
  std::vector<std::uint64_t> checkpoint;  // per partition: the last position applied
  std::string error;                      // for failed: names position, event id and type
  std::uint64_t error_position = 0;
};

struct ViewSet {
  std::string path;
  std::unique_ptr<sql::Db> db;
  ProjectionSet projections;
  std::vector<ProjectionTrack> tracks;  // parallel to projections
  sql::Stmt save_checkpoint;            // (projection, partition, position)
  sql::Stmt save_failure;               // (error, error_position, projection)

  // The index of the projection `name`, -1 when there is none.
  int index_of(const std::string& name) const;
  // The next position of `partition` some running projection needs; 0: none runs.
  std::uint64_t next_position(std::uint32_t partition) const;
};

// The bookkeeping tables every generation has.
extern const char* const kRuntimeSchema;

// Opens the generation at `path` for serving: WAL, the bookkeeping read back
// into the tracks, a new projection created in place (nothing to keep
// answering with), a changed one frozen; a projection stopped by a poison
// event retries from its checkpoint.
Result<std::unique_ptr<ViewSet>> open_serving(const std::string& path, std::uint32_t partitions);

// Creates `p`'s tables and its bookkeeping rows (checkpoint 0 in each
// partition) in the open transaction.
Status create_projection(sql::Db& db, Projection& p, std::uint32_t partitions);

// Prepares the bookkeeping statements and attaches the running projections.
Status prepare_writes(ViewSet& vs);

// Serving settings, everything in the main file, synced: ready to publish.
Status seal_generation(ViewSet& vs);

}  // namespace causeway
