// Node: one running Causeway server on the embedded default, fully wired.
//
//   data_dir/log/         RocksDB: event log, indexes, aggregates, data keys
//   data_dir/master.key   generated master key (0600) when none is configured
//   data_dir/admin.token  generated admin bearer token (0600) when none is set
//   data_dir/key-snapshots/  the data keys apart from backups (api/key_snapshots.h)
//   data_dir/views.db     SQLite views (symlink to views/gen-N.db), see projections/
//   data_dir/workflow-dispatch.json  how far workflow triggers have read the log (a hint)
//
// Lifecycle: open() recovers the log and starts serving; stop() stops accepting,
// lets in-flight commands finish, then closes the log cleanly. The destructor
// calls stop(). Used by `causeway serve`, the integration tests and the bench.
//
// A node may instead be given its log and data-key store (SharedLog: the
// tests' in-memory log with P partitions). It then neither opens nor closes
// them — its owner does, and may hand them to the next node after a restart —
// and what only the embedded log can do (backups, key snapshots, purging
// destroyed keys from disk) is off: embedded_log() is null.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "api/config.h"
#include "api/key_snapshots.h"
#include "api/routes.h"
#include "api/server.h"
#include "engine/audit/checkpointer.h"
#include "engine/billing/timers.h"
#include "engine/mail/outbox.h"
#include "engine/retention/sweeper.h"
#include "engine/workflow/dispatcher.h"
#include "engine/workflow/executor.h"
#include "engine/workflow/recovery.h"
#include "events/rocks/rocks_log.h"
#include "events/upcast.h"
#include "projections/runtime.h"

namespace causeway {

// A log and key store the node is given rather than opens (see above).
struct SharedLog {
  std::shared_ptr<EventLog> log;
  std::shared_ptr<KeyStore> keys;
};

class Node {
 public:
  static Result<std::unique_ptr<Node>> open(const ServerConfig& cfg, const Clock* clock = nullptr,
                                            SharedLog shared = {});
  ~Node();

  unsigned short port() const { return port_; }
  const std::string& admin_token() const { return admin_token_; }
  EventLog& log() { return *log_; }
  RocksEventLog* embedded_log() { return rocks_.get(); }  // null on a shared log
  KeyVault& vault() { return *vault_; }
  CommandPipeline& pipeline() { return *pipeline_; }
  ProjectionRuntime& views() { return *views_; }
  audit::Checkpointer& checkpointer() { return *checkpointer_; }
  retention::RetentionSweeper& retention() { return *retention_; }
  const audit::Signer& signer() const { return *signer_; }
  workflow::Executor& workflows() { return *executor_; }
  billing::Timers& billing() { return *billing_timers_; }
  mail::Outbox& outbox() { return *outbox_; }
  // What the workflow recovery of this start read (from the start-up index, or the whole log).
  const workflow::RecoveryReport& workflow_recovery() const { return recovery_; }
  void stop();

 private:
  Node() = default;
  ServerConfig cfg_;
  SystemClock system_clock_;
  std::unique_ptr<RocksEventLog> rocks_;  // the embedded log, when the node opened it
  SharedLog shared_;                       // the given log, else empty
  EventLog* log_ = nullptr;                // rocks_ or shared_.log
  std::unique_ptr<KeyVault> vault_;
  std::unique_ptr<KeySnapshots> key_snapshots_;
  std::shared_ptr<SchemaRegistry> schemas_;
  Upcaster upcaster_;
  std::unique_ptr<boost::asio::thread_pool> cpu_;
  std::unique_ptr<CommandPipeline> pipeline_;
  std::unique_ptr<ProjectionRuntime> views_;
  std::unique_ptr<audit::Signer> signer_;
  std::unique_ptr<audit::Checkpointer> checkpointer_;
  std::unique_ptr<retention::RetentionSweeper> retention_;
  std::unique_ptr<workflow::Catalog> catalog_;
  std::unique_ptr<billing::Plans> plans_;
  std::unique_ptr<billing::Entitlements> entitlements_;
  std::unique_ptr<api::Api> api_;
  std::unique_ptr<api::Server> server_;
  // After server_: destroyed before it, since they hold timers and work on its io_context.
  std::unique_ptr<workflow::Executor> executor_;
  std::unique_ptr<workflow::Dispatcher> dispatcher_;
  workflow::RecoveryReport recovery_;
  std::unique_ptr<billing::Timers> billing_timers_;
  std::unique_ptr<mail::Outbox> outbox_;
  std::string admin_token_;
  std::string billing_secret_;
  unsigned short port_ = 0;
  bool stopped_ = false;
};

// Reads a secret from `path`, or creates it (0600) from `make` when missing.
Result<std::string> load_or_create_secret(const std::string& path, const std::function<std::string()>& make,
                                          bool& created);

}  // namespace causeway
