// projections/readiness.h: when GET /readyz may say ready.
#include <doctest/doctest.h>

#include "projections/readiness.h"

using namespace causeway;

namespace {
ProjectionStatus running(std::string name) {
  ProjectionStatus s;
  s.name = std::move(name);
  s.state = ProjectionState::running;
  return s;
}
}  // namespace

TEST_CASE("readiness waits until the views have applied the log's start-up head, then says ready") {
  const PositionToken head{{42}};
  const std::vector<ProjectionStatus> fine{running("users"), running("audit")};
  auto behind = readiness(head, PositionToken{{41}}, fine);
  CHECK_FALSE(behind.ready);
  CHECK(behind.reason.find("41") != std::string::npos);
  CHECK(behind.reason.find("42") != std::string::npos);
  CHECK(readiness(head, PositionToken{{42}}, fine).ready);
  CHECK(readiness(head, PositionToken{{50}}, fine).ready);  // events written since start count for nothing
  CHECK(readiness(PositionToken{{0}}, PositionToken{{0}}, fine).ready);  // an empty log
}

TEST_CASE("readiness is false while any projection has stopped on a failure, caught up or not") {
  auto failed = running("usage");
  failed.state = ProjectionState::failed;
  auto r = readiness(PositionToken{{5}}, PositionToken{{9}}, {running("users"), failed});
  CHECK_FALSE(r.ready);
  CHECK(r.reason.find("usage") != std::string::npos);
}

TEST_CASE("readiness needs every partition of the start-up head applied") {
  const PositionToken head{{3, 7}};
  CHECK_FALSE(readiness(head, PositionToken{{3, 6}}, {running("users")}).ready);
  CHECK_FALSE(readiness(head, PositionToken{{3}}, {running("users")}).ready);
  CHECK(readiness(head, PositionToken{{4, 7}}, {running("users")}).ready);
}
