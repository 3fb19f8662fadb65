#include "events/subscription.h"

namespace causeway {

CatchUpSubscription::CatchUpSubscription(EventLog& log, std::uint32_t partition, std::uint64_t from, Handler handler,
                                         std::size_t batch, std::chrono::milliseconds poll)
    : log_(log), partition_(partition), next_(from == 0 ? 1 : from), handler_(std::move(handler)), batch_(batch),
      poll_(poll) {}

CatchUpSubscription::~CatchUpSubscription() { stop(); }

void CatchUpSubscription::start() { thread_ = std::thread([this] { run(); }); }

void CatchUpSubscription::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::optional<Error> CatchUpSubscription::error() const {
  std::lock_guard lk(err_mu_);
  return error_;
}

void CatchUpSubscription::run() {
  while (!stop_) {
    auto events = log_.read_forward(partition_, next_, batch_);
    if (!events) {
      std::lock_guard lk(err_mu_);
      error_ = std::move(events).error();
      return;
    }
    if (events->empty()) {
      log_.wait_past(partition_, next_ - 1, poll_);
      continue;
    }
    if (auto st = handler_(*events); !st) {
      std::lock_guard lk(err_mu_);
      error_ = std::move(st).error();
      return;
    }
    next_ = events->back().position + 1;
  }
}

}  // namespace causeway
