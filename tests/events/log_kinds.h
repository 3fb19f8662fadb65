// The logs the EventLog contract runs against, for TEST_CASE_TEMPLATE: the
// embedded RocksEventLog (in a fresh folder) and the MemoryEventLog with
// P = 1 and P = 3. Each opens with an optional clock and idempotency window.
#pragma once

#include <doctest/doctest.h>

#include <memory>

#include "events/memory/memory_log.h"
#include "events/rocks/rocks_log.h"
#include "support/temp_dir.h"

namespace causeway::testing {

constexpr std::int64_t kHour = 3600LL * 1'000'000;

struct Embedded {
  TempDir dir;
  std::unique_ptr<EventLog> open(const Clock* clock = nullptr, std::int64_t retention_us = kHour) {
    RocksLogOptions o;
    o.path = dir.str();
    o.clock = clock;
    o.idempotency_retention_us = retention_us;
    auto log = RocksEventLog::open(o);
    REQUIRE(log.ok());
    return std::move(log).value();
  }
};

template <std::uint32_t P>
struct InMemory {
  std::unique_ptr<EventLog> open(const Clock* clock = nullptr, std::int64_t retention_us = kHour) {
    MemoryLogOptions o;
    o.partitions = P;
    o.clock = clock;
    o.idempotency_retention_us = retention_us;
    return std::make_unique<MemoryEventLog>(o);
  }
};
using InMemory1 = InMemory<1>;
using InMemory3 = InMemory<3>;

#define LOG_KINDS causeway::testing::Embedded, causeway::testing::InMemory1, causeway::testing::InMemory3

}  // namespace causeway::testing
