// ReadPool: read-only connections to the current views generation, reused.
//
// acquire() hands out a connection on the generation views.db points at now;
// released connections go back to the pool only while that generation is still
// current, so after a rebuild is published new reads see the new file while
// reads already running finish on the old one.
//
// Thread safety: acquire() and Lease destruction may happen on any thread; one
// Lease is used by one thread at a time.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "projections/sqlite.h"
#include "projections/view_files.h"

namespace causeway {

class ReadPool {
 public:
  explicit ReadPool(std::string data_dir, std::size_t max_idle = 8) : files_(std::move(data_dir)), max_idle_(max_idle) {}

  class Lease {
   public:
    Lease(ReadPool* pool, std::unique_ptr<sql::Db> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (db_) pool_->give_back(std::move(db_));
    }
    sql::Db& operator*() { return *db_; }
    sql::Db* operator->() { return db_.get(); }

   private:
    ReadPool* pool_;
    std::unique_ptr<sql::Db> db_;
  };

  Result<Lease> acquire();
  // The file of the current generation (for the analyst SQL sandbox, which opens its own).
  Result<std::string> current() const { return files_.current(); }

 private:
  void give_back(std::unique_ptr<sql::Db> db);
  ViewFiles files_;
  std::size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<sql::Db>> idle_;
};

}  // namespace causeway
