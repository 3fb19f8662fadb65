#include "engine/aggregate_store.h"

namespace causeway {

std::optional<AggregateSnapshot> AggregateStore::cached(const std::string& stream) {
  std::lock_guard lk(mu_);
  auto it = map_.find(stream);
  if (it == map_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second.second);
  return it->second.first;
}

void AggregateStore::remember(const std::string& stream, AggregateSnapshot snap) {
  if (capacity_ == 0) return;
  std::lock_guard lk(mu_);
  auto it = map_.find(stream);
  if (it != map_.end()) {
    if (it->second.first.version > snap.version) return;
    it->second.first = std::move(snap);
    lru_.splice(lru_.begin(), lru_, it->second.second);
    return;
  }
  lru_.push_front(stream);
  map_.emplace(stream, std::make_pair(std::move(snap), lru_.begin()));
  while (map_.size() > capacity_) {
    map_.erase(lru_.back());
    lru_.pop_back();
  }
}

void AggregateStore::forget(const std::string& stream) {
  std::lock_guard lk(mu_);
  auto it = map_.find(stream);
  if (it == map_.end()) return;
  lru_.erase(it->second.second);
  map_.erase(it);
}

}  // namespace causeway
