// Audit export: a range of the log as a self-verifying file (JSON lines) or a
// spreadsheet (CSV).
//
// JSON lines, format 1 — one object per line:
//   {"causeway_audit_export":1, "partition":0, "from":a, "to":b, "filters":{…},
//    "exported_at":"…", "public_key":"<hex>"}                         header
//   {"record":"event", "position":n, "hash":"…", "prev_hash":"…",
//    "entry":"<base64 of the stored log entry>", "event":{CloudEvent}} a matching event
//   {"record":"link", "position":n, "hash":"…", "prev_hash":"…"}      a filtered-out event
//   {"record":"end", "events":k, "last_position":m}                   trailer
//
// Every position from `from` on appears once, in order: matching events in
// full, others as links, so the hash chain is unbroken. The file then goes on
// (as links) past `to` up to the first signed checkpoint at or after `to`, and
// holds that checkpoint event, so a verifier with only the public key can
// authenticate every exported entry (verify.h). The readable "event" is the
// CloudEvents rendering with personal fields opened, or "[erased]" when the
// subject's key is gone; "entry" keeps the exact stored bytes (sealed), which is
// what the chain covers.
//
// Checkpoint events are always exported in full, whatever the filters.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "engine/audit/signing.h"
#include "engine/schema_registry.h"
#include "events/event_log.h"
#include "events/key_vault.h"

namespace causeway::audit {

struct ExportQuery {
  std::uint32_t partition = 0;           // the chain exported: one partition per file
  std::uint64_t from = 1;                // first position
  std::uint64_t to = 0;                  // last position; 0 = the head when the export starts
  std::optional<std::int64_t> since_us;  // recorded_at >= since (filter)
  std::optional<std::int64_t> until_us;  // recorded_at < until (filter)
  std::string tenant, actor, subject, type, stream;  // equality filters; empty = any
  enum class Format { jsonl, csv } format = Format::jsonl;

  bool matches(const Event& e) const;
  boost::json::object filters_json() const;
};

struct ExportSummary {
  std::uint64_t events = 0;         // matching events written
  std::uint64_t last_position = 0;  // last record written (jsonl: may be past `to`)
  bool signed_to_end = false;       // jsonl: a checkpoint covering `to` is in the file
};

// Records, durably, that `actor` is exporting `q` for `reason` (contract 8:
// reading the audit log is itself an event, "audit.exported", on the stream
// "audit-reads-<tenant or global>", tenant = the filter's tenant).
Status record_export(EventLog& log, const Actor& actor, const ExportQuery& q, const std::string& reason,
                     std::int64_t now_us);
// Records, durably, that `actor` read the audit log of `tenant` (empty: every
// tenant) through a view or SQL: "audit.read" with `data` ({reason, via, ...},
// schemas/events/audit.read.v1.json), on the same stream as exports.
// Records access.denied {method, route, status} on "access-denied-<tenant or
// global>": an authenticated caller was refused (403) or told another
// organization's resource does not exist (404). Durable before it returns.
Status record_denied(EventLog& log, const Actor& actor, const std::string& tenant, boost::json::object data,
                     std::int64_t now_us);
Status record_read(EventLog& log, const Actor& actor, const std::string& tenant, boost::json::object data,
                   std::int64_t now_us);

// Every stored event about `subject`, in log order (across partitions: in the
// order they were recorded, then by partition and position), by the subject
// index: point reads, no scan. Fails with corruption when the index names a missing
// position.
Result<std::vector<Event>> events_about(EventLog& log, const std::string& subject);

// Every event about `subject` (GDPR Art. 15), by the subject index: point
// reads, no scan. CloudEvents with personal fields opened ("[erased]" or
// "[expired]" where a key is gone) and secret fields "[redacted]".
Result<boost::json::array> subject_events(EventLog& log, KeyVault& vault, const SchemaRegistry& schemas,
                                          const std::string& subject);

// Streams the export to `sink` (one call per line, each ending in '\n').
// `vault` opens personal fields (null: they stay sealed); secret fields
// (schemas' "x-secret", e.g. password hashes) are always "[redacted]".
Result<ExportSummary> export_audit(EventLog& log, KeyVault* vault, const SchemaRegistry& schemas,
                                   const PublicKey& public_key, const ExportQuery& q,
                                   const std::function<void(std::string_view)>& sink);

}  // namespace causeway::audit
