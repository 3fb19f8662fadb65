#include "projections/sqlite.h"

#include <fmt/format.h>

namespace causeway::sql {

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (s_) sqlite3_finalize(s_);
    db_ = o.db_;
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() {
  if (s_) sqlite3_finalize(s_);
}

Stmt& Stmt::bind(int i, std::string_view v) {
  if (sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK && error_)
    error_ = Error::invalid(fmt::format("bind {}: {}", i, sqlite3_errmsg(db_)));
  return *this;
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  if (sqlite3_bind_int64(s_, i, v) != SQLITE_OK && error_)
    error_ = Error::invalid(fmt::format("bind {}: {}", i, sqlite3_errmsg(db_)));
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  if (sqlite3_bind_null(s_, i) != SQLITE_OK && error_)
    error_ = Error::invalid(fmt::format("bind {}: {}", i, sqlite3_errmsg(db_)));
  return *this;
}

Result<bool> Stmt::step() {
  if (!error_) return error_.error();
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Errc code = rc == SQLITE_INTERRUPT ? Errc::unavailable
              : (rc == SQLITE_AUTH || rc == SQLITE_READONLY) ? Errc::forbidden
              : rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? Errc::corruption
              : rc == SQLITE_BUSY || rc == SQLITE_IOERR || rc == SQLITE_FULL || rc == SQLITE_NOMEM
                  ? Errc::unavailable
                  : Errc::invalid;
  return Error{code, sqlite3_errmsg(db_), {}};
}

Status Stmt::run() {
  for (;;) {
    auto r = step();
    if (!r) {
      reset();
      return std::move(r).error();
    }
    if (!*r) break;
  }
  reset();
  return ok_status();
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
  error_ = ok_status();
}

std::string Stmt::text(int i) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, i))) : std::string();
}

Result<std::unique_ptr<Db>> Db::open(const std::string& path, Mode mode) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI | (mode == Mode::read_only ? SQLITE_OPEN_READONLY
                                                             : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return Error::unavailable(fmt::format("cannot open views database {}: {}", path, msg));
  }
  std::unique_ptr<Db> db(new Db(raw, path));
  sqlite3_extended_result_codes(raw, 0);
  sqlite3_busy_timeout(raw, 5000);
  // Extension loading stays off on every connection (it is off by default; this
  // makes it explicit for the C API and the SQL function alike).
  sqlite3_db_config(raw, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  return db;
}

Db::~Db() { sqlite3_close_v2(db_); }

Status Db::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    Error e = Error::unavailable(err ? err : "sqlite error");
    sqlite3_free(err);
    return e;
  }
  return ok_status();
}

Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, &tail) !=
      SQLITE_OK)
    return error("prepare");
  if (!s) return Error::invalid("the statement is empty");
  if (tail && *tail) {
    std::string_view rest(tail);
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_finalize(s);
      return Error::invalid("only one statement is allowed");
    }
  }
  return Stmt(db_, s);
}

Error Db::error(std::string_view what) const {
  int rc = sqlite3_errcode(db_);
  Errc code = rc == SQLITE_AUTH ? Errc::forbidden : rc == SQLITE_ERROR ? Errc::invalid : Errc::unavailable;
  return Error{code, fmt::format("{}: {}", what, sqlite3_errmsg(db_)), {}};
}

Result<Txn> Txn::begin(Db& db) {
  if (auto st = db.exec("BEGIN IMMEDIATE"); !st) return std::move(st).error();
  return Txn(&db);
}

Txn::~Txn() {
  if (db_) (void)db_->exec("ROLLBACK");
}

Status Txn::commit() {
  auto st = db_->exec("COMMIT");
  if (st) db_ = nullptr;
  return st;
}

std::string quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string file_uri(std::string_view path, std::string_view query) {
  std::string out = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  out += '?';
  out += query;
  return out;
}

}  // namespace causeway::sql
