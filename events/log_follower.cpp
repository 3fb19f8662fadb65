#include "events/log_follower.h"

namespace causeway {

LogFollower::LogFollower(EventLog& log, PositionToken next, Handler handler, Options options)
    : log_(log), handler_(std::move(handler)), opts_(std::move(options)), next_(std::move(next)) {
  next_.offsets.resize(log_.partitions(), 1);
  for (auto& n : next_.offsets) n = n == 0 ? 1 : n;
  if (opts_.partitions.empty())
    for (std::uint32_t p = 0; p < log_.partitions(); ++p) opts_.partitions.push_back(p);
}

LogFollower::~LogFollower() { stop(); }

void LogFollower::start() { thread_ = std::thread([this] { run(); }); }

void LogFollower::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

PositionToken LogFollower::next() const {
  std::lock_guard lk(mu_);
  return next_;
}

std::optional<Error> LogFollower::error() const {
  std::lock_guard lk(mu_);
  return error_;
}

Result<std::size_t> LogFollower::step(std::uint32_t p) {
  const std::uint64_t from = next().offsets[p];
  auto events = log_.read_forward(p, from, opts_.batch, opts_.check);
  if (!events) return std::move(events).error();
  if (events->empty()) return std::size_t{0};
  if (auto st = handler_(p, *events); !st) return std::move(st).error();
  std::lock_guard lk(mu_);
  next_.offsets[p] = events->back().position + 1;
  return events->size();
}

void LogFollower::run() {
  while (!stop_) {
    bool moved = false;
    for (auto p : opts_.partitions) {
      auto n = step(p);
      if (!n) {
        std::lock_guard lk(mu_);
        error_ = std::move(n).error();
        return;
      }
      moved = moved || *n > 0;
    }
    if (moved) continue;
    // Caught up everywhere: sleep until a head passes what was read.
    PositionToken seen;
    seen.offsets.assign(log_.partitions(), UINT64_MAX);  // partitions not followed never wake it
    const PositionToken next_now = next();
    for (auto p : opts_.partitions) seen.offsets[p] = next_now.offsets[p] - 1;
    log_.wait_moved(seen, opts_.poll);
  }
}

}  // namespace causeway
