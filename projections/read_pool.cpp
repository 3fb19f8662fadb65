#include "projections/read_pool.h"

namespace causeway {

Result<ReadPool::Lease> ReadPool::acquire() {
  auto path = files_.current();
  if (!path) return std::move(path).error();
  {
    std::lock_guard lk(mu_);
    while (!idle_.empty()) {
      auto db = std::move(idle_.back());
      idle_.pop_back();
      if (db->path() == *path) return Lease(this, std::move(db));
    }
  }
  auto db = sql::Db::open(*path, sql::Db::Mode::read_only);
  if (!db) return std::move(db).error();
  if (auto st = (*db)->exec("PRAGMA query_only=ON"); !st) return std::move(st).error();
  return Lease(this, std::move(db).value());
}

void ReadPool::give_back(std::unique_ptr<sql::Db> db) {
  auto path = files_.current();
  if (!path || *path != db->path()) return;
  std::lock_guard lk(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(db));
}

}  // namespace causeway
