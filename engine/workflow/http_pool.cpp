#include "engine/workflow/http_pool.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>

namespace causeway::workflow {
namespace {

// Whether an idle connection can carry a request: the peer has not closed it
// (recv would return 0) and has sent nothing unasked (a stray 408, say).
bool still_open(int fd) {
  char byte;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

IdleConnections::~IdleConnections() {
  for (auto& [key, list] : idle_)
    for (const auto& i : list) ::close(i.c.fd);
}

IdleConnections& IdleConnections::process() {
  static IdleConnections pool{Limits{}};
  return pool;
}

std::optional<IdleConnections::Connection> IdleConnections::take(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  sweep_locked(now);
  auto it = idle_.find(key);
  if (it == idle_.end()) return std::nullopt;
  std::optional<Connection> found;
  while (!it->second.empty() && !found) {
    const Idle i = it->second.back();
    it->second.pop_back();
    --count_;
    if (now - i.since < limits_.idle_max && still_open(i.c.fd)) found = i.c;
    else ::close(i.c.fd);
  }
  if (it->second.empty()) idle_.erase(it);
  return found;
}

void IdleConnections::give(const std::string& key, Connection c, Clock::time_point now) noexcept {
  std::lock_guard lock(mu_);
  sweep_locked(now);
  std::deque<Idle>* list = nullptr;
  try {
    list = &idle_[key];
    list->push_back(Idle{c, now});
  } catch (...) {
    ::close(c.fd);
    return;
  }
  ++count_;
  if (list->size() > limits_.per_key) {
    ::close(list->front().c.fd);
    list->pop_front();
    --count_;
  }
  // Over the total: close the oldest connection of whichever key holds it.
  while (count_ > limits_.total) {
    auto oldest = idle_.end();
    for (auto k = idle_.begin(); k != idle_.end(); ++k)
      if (!k->second.empty() && (oldest == idle_.end() || k->second.front().since < oldest->second.front().since))
        oldest = k;
    if (oldest == idle_.end()) break;
    ::close(oldest->second.front().c.fd);
    oldest->second.pop_front();
    --count_;
    if (oldest->second.empty()) idle_.erase(oldest);
  }
}

std::size_t IdleConnections::size() const {
  std::lock_guard lock(mu_);
  return count_;
}

void IdleConnections::sweep_locked(Clock::time_point now) {
  if (now - last_sweep_ < std::chrono::seconds(1)) return;
  last_sweep_ = now;
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& list = it->second;
    while (!list.empty() && now - list.front().since >= limits_.idle_max) {
      ::close(list.front().c.fd);
      list.pop_front();
      --count_;
    }
    it = list.empty() ? idle_.erase(it) : std::next(it);
  }
}

}  // namespace causeway::workflow
