// Timers: the subscription transitions that are due by the clock, not by a
// request (engine/aggregates/subscription.h): a trial's end, the end of the
// grace after a failed payment, the end of a cancelled period.
//
// It keeps each organization's next deadline (subscription::next_deadline) in
// memory; the source of truth stays the subscription aggregate. watch() reads
// one organization's deadline again (start-up recovery calls it for every
// organization with subscription events; the subscription commands call it
// after each commit). tick() issues subscription.tick for every deadline the
// clock has passed; deciding it again writes nothing, so a tick that races a
// restart or another tick is harmless. The executor's timer loop calls
// tick(); tests with a manual clock call it directly.
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "engine/billing/entitlements.h"

namespace causeway::billing {

class Timers {
 public:
  Timers(CommandPipeline& pipe, Entitlements& entitlements, boost::asio::any_io_executor io)
      : pipe_(pipe), entitlements_(entitlements), io_(std::move(io)) {}

  void watch(const std::string& org_id);
  // Issues subscription.tick (asynchronously, on the I/O executor) for every
  // organization whose deadline has passed; returns how many.
  std::size_t tick();
  // Organizations with a deadline ahead (for metrics and tests).
  std::size_t pending() const;
  std::uint64_t failures() const { return failures_.load(); }

 private:
  CommandPipeline& pipe_;
  Entitlements& entitlements_;
  boost::asio::any_io_executor io_;
  mutable std::mutex mu_;
  std::map<std::string, std::int64_t> deadlines_;  // org -> due time (µs)
  std::set<std::string> in_flight_;
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace causeway::billing
