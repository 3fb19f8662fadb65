// Polling with a deadline, for state that changes on another thread or in
// another process (a real server's runs, views and mail files): calls
// `condition` until it returns true, sleeping `every` between calls, and FAILs
// the test with `what` once `limit` has passed without it holding — a
// failure, never a hang. `condition` may itself REQUIRE (a failed request
// fails the test at once). It is called at least once, even with a zero limit.
//
// Where the code under test offers something to wait on (a condition
// variable, a receiver's wait_for()), wait on that instead.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

namespace causeway::testing {

template <class F>
void eventually(F&& condition, std::chrono::milliseconds limit, std::string_view what,
                std::chrono::milliseconds every = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (condition()) return;
    if (std::chrono::steady_clock::now() >= deadline)
      FAIL("timed out after " << limit.count() << " ms waiting for: " << std::string(what));
    std::this_thread::sleep_for(every);
  }
}

}  // namespace causeway::testing
