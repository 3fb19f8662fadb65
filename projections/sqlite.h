// A thin RAII layer over the SQLite C API: errors as values, no exceptions.
//
// Db owns one connection; Stmt one prepared statement (finalized on
// destruction). Neither is thread-safe: a connection belongs to one thread at a
// time (the projection writer, or one query). Every failing call returns an
// Error whose message carries SQLite's own text (never bound values, which may
// hold personal data).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "events/result.h"

namespace causeway::sql {

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Bind by 1-based index. Text is copied (SQLITE_TRANSIENT).
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind_null(int i);
  // Binds the next parameter after the last one bound (convenient for lists).
  template <class... A>
  Stmt& bind_all(const A&... a) {
    int i = 0;
    (bind_one(++i, a), ...);
    return *this;
  }

  // SQLITE_ROW -> true, SQLITE_DONE -> false, else an error.
  Result<bool> step();
  // Runs to completion (for writes). Resets the statement afterwards.
  Status run();
  void reset();

  int columns() const { return sqlite3_column_count(s_); }
  const char* column_name(int i) const { return sqlite3_column_name(s_, i); }
  int type(int i) const { return sqlite3_column_type(s_, i); }
  bool is_null(int i) const { return type(i) == SQLITE_NULL; }
  std::int64_t i64(int i) const { return sqlite3_column_int64(s_, i); }
  double f64(int i) const { return sqlite3_column_double(s_, i); }
  std::string text(int i) const;
  sqlite3_stmt* raw() { return s_; }

 private:
  void bind_one(int i, std::string_view v) { bind(i, v); }
  void bind_one(int i, const std::string& v) { bind(i, std::string_view(v)); }
  void bind_one(int i, const char* v) { bind(i, std::string_view(v)); }
  void bind_one(int i, std::int64_t v) { bind(i, v); }
  void bind_one(int i, int v) { bind(i, static_cast<std::int64_t>(v)); }
  void bind_one(int i, std::uint32_t v) { bind(i, static_cast<std::int64_t>(v)); }
  void bind_one(int i, std::uint64_t v) { bind(i, static_cast<std::int64_t>(v)); }
  void bind_one(int i, std::nullopt_t) { bind_null(i); }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
  Status error_ = ok_status();  // first bind error, reported by step()
};

class Db {
 public:
  enum class Mode { read_write_create, read_only };
  static Result<std::unique_ptr<Db>> open(const std::string& path, Mode mode);
  ~Db();

  Status exec(const std::string& sql);  // one or more statements, no results
  Result<Stmt> prepare(std::string_view sql);
  std::int64_t changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() { return db_; }
  const std::string& path() const { return path_; }

  // The error for the connection's last failure, with `what` as context.
  Error error(std::string_view what) const;

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back on destruction unless committed.
class Txn {
 public:
  static Result<Txn> begin(Db& db);
  Txn(Txn&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Txn(const Txn&) = delete;
  ~Txn();
  Status commit();

 private:
  explicit Txn(Db* db) : db_(db) {}
  Db* db_;
};

// Quotes `s` as an SQL string literal ('it''s').
std::string quote(std::string_view s);
// "file:<path>?<query>" with the path percent-escaped where URIs need it.
std::string file_uri(std::string_view path, std::string_view query);

}  // namespace causeway::sql
