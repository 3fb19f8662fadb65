// Catalog: what the run commands need besides a run's control state, cached.
//
//   definition(workflow, hash)  the compiled definition of a published version
//                               (immutable: cached by content hash for good)
//   context(run, version)       the run's context {input, vars, steps} as of a
//                               stream version, folded from the opened events
//                               (the state never holds it: it is personal data,
//                               sealed in the log, so erasure reaches it)
//
// The context cache remembers the last version folded per run and reads only
// the newer events, so a run's history is never re-read in full and has no
// size cap. A subject erased mid-run reads "[erased]" in its context.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "engine/aggregates/run.h"
#include "engine/workflow/definition.h"

namespace causeway {
class CommandPipeline;
}

namespace causeway::workflow {

class Catalog {
 public:
  explicit Catalog(CommandPipeline& pipe, std::size_t contexts = 100'000) : pipe_(pipe), capacity_(contexts) {}

  Result<std::shared_ptr<const Definition>> definition(const std::string& workflow_id, const std::string& hash);
  Result<run::Context> context(const std::string& run_id, std::uint64_t version, const Definition& def);
  // The context as of `version`, known without reading the log: what a
  // decision folded, once its commit is durable (Plan::on_committed).
  void remember(const std::string& run_id, std::uint64_t version, run::Context context);
  // Compiles a definition document (cached by its content hash).
  Result<std::shared_ptr<const Definition>> compile_cached(const boost::json::value& doc, const std::string& hash);

 private:
  struct Folded {
    std::uint64_t version = 0;
    run::Context context;
  };
  CommandPipeline& pipe_;
  std::size_t capacity_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const Definition>> definitions_;
  std::unordered_map<std::string, Folded> contexts_;
};

}  // namespace causeway::workflow
