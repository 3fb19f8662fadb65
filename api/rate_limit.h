// RateLimiter: at most `limit` attempts per key (an IP address, an account) in
// each fixed window of `window_us`, on an injected clock. In memory: a restart
// forgets the counts, which only ever lets a few more attempts through (the
// per-account lockout, engine/aggregates/user.h, is durable).
//
// Thread safety: acquire() may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "events/clock.h"

namespace causeway::api {

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, std::size_t limit, std::int64_t window_us)
      : clock_(clock), limit_(limit), window_us_(window_us) {}

  // 0 when the attempt is allowed (and counted); else microseconds until the
  // key's window ends.
  std::int64_t acquire(const std::string& key) {
    if (limit_ == 0) return 0;
    const std::int64_t now = clock_.now_us();
    const std::int64_t start = now - now % window_us_;
    std::lock_guard lk(mu_);
    if (windows_.size() > 100'000) std::erase_if(windows_, [&](const auto& kv) { return kv.second.start != start; });
    auto& w = windows_[key];
    if (w.start != start) w = {start, 0};
    if (w.count >= limit_) return start + window_us_ - now;
    ++w.count;
    return 0;
  }

 private:
  struct Window {
    std::int64_t start = 0;
    std::size_t count = 0;
  };
  const Clock& clock_;
  std::size_t limit_;
  std::int64_t window_us_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace causeway::api
