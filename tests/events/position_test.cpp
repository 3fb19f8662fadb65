#include <doctest/doctest.h>

#include "events/position.h"

using namespace causeway;

TEST_CASE("position token round-trips its text form for one and several partitions") {
  auto one = PositionToken::parse("42");
  REQUIRE(one.ok());
  CHECK(one->offsets == std::vector<std::uint64_t>{42});
  CHECK(one->str() == "42");
  auto three = PositionToken::parse("42.0.17");
  REQUIRE(three.ok());
  CHECK(three->str() == "42.0.17");
}

TEST_CASE("position token rejects malformed text") {
  for (const char* bad : {"", ".", "1..2", "a", "1.", "-1", "1.x"}) CHECK_FALSE(PositionToken::parse(bad).ok());
}

TEST_CASE("a token covers another only when it is at least as far in every partition") {
  PositionToken a{{5, 3}}, b{{4, 3}}, c{{6, 0}};
  CHECK(a.covers(b));
  CHECK_FALSE(b.covers(a));
  CHECK_FALSE(a.covers(PositionToken{{5, 4}}));
  a.merge(c);
  CHECK(a == PositionToken{{6, 3}});
}
