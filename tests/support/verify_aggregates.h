// What `causeway log verify` says of a live log's aggregate records: each
// refolded from its events must equal its stored state.
#pragma once

#include <doctest/doctest.h>

#include "engine/verify.h"
#include "events/rocks/rocks_log.h"
#include "events/upcast.h"

namespace causeway::testing {

inline VerifyReport verified_aggregates(RocksEventLog& log) {
  auto records = log.all_aggregates();
  REQUIRE(records.ok());
  Upcaster none;
  auto folded = verify_aggregates(log, none, *records, nullptr);
  CAPTURE(folded.problem.value_or(""));
  CHECK_FALSE(folded.problem);
  return folded;
}

}  // namespace causeway::testing
