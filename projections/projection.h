// Projection: one read model built from the log into SQLite tables.
//
// A projection declares its name, a version, the event types it consumes and
// its SQL schema (schemas/views/<name>.sql, embedded at build time). The
// runtime (runtime.h) creates one instance per connection it writes through:
// attach() prepares statements on that connection, apply() turns one event
// into row changes. apply() runs inside the runtime's transaction, which also
// holds the projection's checkpoint, so every event takes effect exactly once.
//
// Contract for implementers: apply() must be deterministic in the event alone
// (no clock, no randomness, no reads of other projections' tables), so a
// rebuild reproduces the live view row for row. Personal fields stay sealed in
// the rows (the sealed JSON text); readers open them with the key vault, so an
// erased subject's rows read as redacted without any rewrite.
//
// Changing the SQL or apply() means bumping version(): the runtime rebuilds a
// projection whose stored version or schema hash differs from the code's.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "events/envelope.h"
#include "projections/sqlite.h"

namespace causeway {

class Projection {
 public:
  virtual ~Projection() = default;
  virtual std::string name() const = 0;
  virtual int version() const = 0;
  virtual bool consumes(std::string_view type) const = 0;
  // Tables (and nothing else) that the schema creates; copied or dropped as a unit.
  virtual std::vector<std::string> tables() const = 0;
  // Prepares statements on `db`; called once per connection before apply().
  virtual Status attach(sql::Db& db) = 0;
  // `data` is the upcast payload with personal fields still sealed.
  virtual Status apply(const Event& e, const boost::json::object& data) = 0;
  // A projection may gather a batch's changes in memory in apply() and write
  // them here, at the end of the batch, inside the same transaction. The rows
  // must come out as if each event had been written in apply(). A failure
  // here is taken for a failure of the database, not of an event: the whole
  // batch is undone, for every projection, and tried again. So flush() must
  // not fail on an event's content; refuse bad content in apply(), which
  // stops only this projection at that event.
  virtual Status flush() { return ok_status(); }
  // Forgets what apply() gathered since the last flush (the runtime undid the
  // batch, or is about to start one).
  virtual void discard() {}

  // The schema text (schemas/views/<name>.sql) and its hash, which is stored
  // with the version so an edited schema also triggers a rebuild.
  std::string schema_sql() const;
  std::string schema_hash() const;
};

using ProjectionSet = std::vector<std::unique_ptr<Projection>>;

// Every projection of the product, fresh instances (projections/views/).
ProjectionSet make_projections();

// Embedded schemas/views/*.sql, by file name without extension.
std::string_view embedded_view_sql(std::string_view name);

// Helpers for apply() implementations.
std::string field(const boost::json::object& data, const char* key);        // string field or ""
std::string sealed_field(const boost::json::object& data, const char* key);  // JSON text of the (sealed) value
std::string month_of(std::int64_t micros_since_epoch);                     // "2026-11"

}  // namespace causeway
