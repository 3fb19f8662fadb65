#include "engine/billing/timers.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/value.hpp>

namespace causeway::billing {
namespace asio = boost::asio;

void Timers::watch(const std::string& org_id) {
  auto st = entitlements_.standing(org_id);
  std::lock_guard lk(mu_);
  if (!st) {
    // Unreadable now: keep any deadline we had, so a tick tries again.
    failures_++;
    return;
  }
  if (const std::int64_t due = subscription::next_deadline(st->state); due > 0)
    deadlines_[org_id] = due;
  else
    deadlines_.erase(org_id);
}

std::size_t Timers::tick() {
  const std::int64_t now = pipe_.clock().now_us();
  std::vector<std::string> due;
  {
    std::lock_guard lk(mu_);
    for (const auto& [org, at] : deadlines_)
      if (at <= now && !in_flight_.contains(org)) due.push_back(org);
    for (const auto& org : due) in_flight_.insert(org);
  }
  for (const auto& org : due) {
    asio::co_spawn(
        io_,
        [this, org]() -> asio::awaitable<void> {
          CommandContext ctx;
          ctx.actor = Actor{"billing", {}};
          ctx.target = org;
          auto r = co_await pipe_.execute("subscription.tick", boost::json::object{}, std::move(ctx));
          if (!r) failures_++;
          {
            std::lock_guard lk(mu_);
            in_flight_.erase(org);
          }
          watch(org);  // the next deadline, or none
        },
        asio::detached);
  }
  return due.size();
}

std::size_t Timers::pending() const {
  std::lock_guard lk(mu_);
  return deadlines_.size();
}

}  // namespace causeway::billing
