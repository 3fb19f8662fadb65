#include "api/connection_limits.h"

#include <sys/resource.h>

#include <algorithm>

namespace causeway::api {

std::unique_ptr<ConnectionLimits::Ticket> ConnectionLimits::admit(const std::string& peer, Refusal& why) {
  std::lock_guard lk(mu_);
  why = Refusal::none;
  if (total_ && open_ >= total_) why = Refusal::total;
  else if (per_peer_ && by_peer_[peer] >= per_peer_) why = Refusal::per_peer;
  if (why != Refusal::none) {
    if (auto it = by_peer_.find(peer); it != by_peer_.end() && it->second == 0) by_peer_.erase(it);
    return nullptr;
  }
  ++open_;
  ++by_peer_[peer];
  return std::make_unique<Ticket>(this, peer);
}

void ConnectionLimits::release(const std::string& peer) {
  std::lock_guard lk(mu_);
  --open_;
  if (auto it = by_peer_.find(peer); it != by_peer_.end() && --it->second == 0) by_peer_.erase(it);
}

std::size_t ConnectionLimits::open() const {
  std::lock_guard lk(mu_);
  return open_;
}

std::size_t descriptor_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return static_cast<std::size_t>(rl.rlim_cur);
}

std::size_t default_max_connections() { return std::max<std::size_t>(16, descriptor_limit() / 4 * 3); }

bool BoundedWarning::due(std::uint64_t& suppressed) {
  std::lock_guard lk(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (last_ && now - *last_ < every_) {
    ++held_;
    return false;
  }
  last_ = now;
  suppressed = held_;
  held_ = 0;
  return true;
}

}  // namespace causeway::api
