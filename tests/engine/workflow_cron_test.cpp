#include <doctest/doctest.h>

#include <chrono>

#include "engine/workflow/cron.h"

using namespace causeway;
using namespace causeway::workflow;
namespace chr = std::chrono;

namespace {

// µs since the epoch of a UTC time.
std::int64_t at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  auto day = chr::sys_days{chr::year{y} / chr::month{mo} / chr::day{d}};
  auto t = day + chr::hours{h} + chr::minutes{mi} + chr::seconds{s};
  return chr::duration_cast<chr::microseconds>(t.time_since_epoch()).count();
}

Cron cron(std::string_view text) {
  auto c = parse_cron(text);
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  return *c;
}

std::string error_of(std::string_view text) {
  auto c = parse_cron(text);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().code == Errc::invalid);
  return c.error().message;
}

}  // namespace

TEST_CASE("cron next_after is strictly after and on a whole minute") {
  auto c = cron("*/15 * * * *");
  CHECK(c.next_after(at(2024, 5, 1, 0, 7, 30)) == at(2024, 5, 1, 0, 15));
  CHECK(c.next_after(at(2024, 5, 1, 0, 15)) == at(2024, 5, 1, 0, 30));
  CHECK(c.next_after(at(2024, 5, 1, 0, 15) - 1) == at(2024, 5, 1, 0, 15));
  CHECK(c.next_after(at(2024, 5, 1, 23, 50)) == at(2024, 5, 2, 0, 0));
}

TEST_CASE("cron weekly schedule finds the next Monday at 09:00 UTC") {
  auto c = cron("0 9 * * 1");
  CHECK(c.next_after(at(2024, 1, 1, 8, 59)) == at(2024, 1, 1, 9, 0));   // 2024-01-01 is a Monday
  CHECK(c.next_after(at(2024, 1, 1, 10, 0)) == at(2024, 1, 8, 9, 0));
}

TEST_CASE("cron day 31 skips the months that are shorter") {
  auto c = cron("0 0 31 * *");
  CHECK(c.next_after(at(2024, 4, 1)) == at(2024, 5, 31));
  CHECK(c.next_after(at(2024, 5, 31)) == at(2024, 7, 31));
}

TEST_CASE("cron February 29 fires only in leap years, and 2100 is not one") {
  auto c = cron("0 0 29 2 *");
  CHECK(c.next_after(at(2023, 3, 1)) == at(2024, 2, 29));
  CHECK(c.next_after(at(2024, 3, 1)) == at(2028, 2, 29));
  CHECK(c.next_after(at(2097, 1, 1)) == at(2104, 2, 29));
}

TEST_CASE("cron rolls over the end of the year") {
  CHECK(cron("0 0 1 1 *").next_after(at(2024, 12, 31, 23, 59, 59)) == at(2025, 1, 1));
}

TEST_CASE("cron with day of month and day of week both restricted fires on either") {
  auto friday_or_13th = cron("0 0 13 * 5");
  CHECK(friday_or_13th.next_after(at(2024, 9, 1)) == at(2024, 9, 6));   // a Friday, before the 13th
  CHECK(friday_or_13th.next_after(at(2024, 9, 6)) == at(2024, 9, 13));
  auto monday_or_13th = cron("0 0 13 * 1");
  CHECK(monday_or_13th.next_after(at(2024, 9, 10)) == at(2024, 9, 13));  // a Friday the 13th
}

TEST_CASE("cron with a day field starting with * needs both day fields to match") {
  // Days 1, 11, 21, 31 that are Fridays: the first after 2024-09-01 is 2024-10-11.
  CHECK(cron("0 0 */10 * 5").next_after(at(2024, 9, 1)) == at(2024, 10, 11));
  // Only Sundays.
  CHECK(cron("0 0 * * 0").next_after(at(2025, 5, 28)) == at(2025, 6, 1));
}

TEST_CASE("cron day of week 7 is Sunday like 0") {
  auto seven = cron("0 12 * * 7"), zero = cron("0 12 * * 0");
  CHECK(seven.weekdays == zero.weekdays);
  CHECK(seven.next_after(at(2025, 5, 28)) == at(2025, 6, 1, 12));
}

TEST_CASE("cron lists, ranges and stepped ranges") {
  auto c = cron("1-10/3 8,17 * * 1-5");
  CHECK(c.minutes.count() == 4);
  CHECK(c.minutes[1]);
  CHECK(c.minutes[4]);
  CHECK(c.minutes[7]);
  CHECK(c.minutes[10]);
  CHECK(c.hours.count() == 2);
  CHECK(c.weekdays.count() == 5);
  // Saturday 2024-09-07 -> Monday 2024-09-09 08:01.
  CHECK(c.next_after(at(2024, 9, 7, 12)) == at(2024, 9, 9, 8, 1));
  CHECK(c.next_after(at(2024, 9, 9, 8, 10)) == at(2024, 9, 9, 17, 1));
  CHECK(cron("30/10 * * * *").minutes.count() == 3);  // 30, 40, 50
}

TEST_CASE("cron syntax errors name the field and what was expected") {
  CHECK(error_of("* * * *") ==
        "expected 5 cron fields (minute hour day-of-month month day-of-week), found 4");
  CHECK(error_of("60 * * * *") == "cron minute field: expected a number from 0 to 59, found '60'");
  CHECK(error_of("* 24 * * *") == "cron hour field: expected a number from 0 to 23, found '24'");
  CHECK(error_of("* * 0 * *") == "cron day of month field: expected a number from 1 to 31, found '0'");
  CHECK(error_of("* * * 13 *") == "cron month field: expected a number from 1 to 12, found '13'");
  CHECK(error_of("* * * * 8") == "cron day of week field: expected a number from 0 to 7, found '8'");
  CHECK(error_of("*/0 * * * *") == "cron minute field: expected a step of 1 or more after '/', found '*/0'");
  CHECK(error_of("5-1 * * * *") == "cron minute field: expected a range from low to high, found '5-1'");
  CHECK(error_of("1,,2 * * * *") == "cron minute field: expected a number from 0 to 59, found ''");
  CHECK(error_of("MON * * * *").starts_with("cron minute field"));
}

TEST_CASE("cron that can never fire is refused") {
  CHECK(error_of("0 0 30 2 *") == "cron schedule never fires: no listed month has a listed day of month");
  CHECK(error_of("0 0 31 4,6 *").starts_with("cron schedule never fires"));
  CHECK(parse_cron("0 0 31 4,6 1").ok());  // either day rule: Mondays of April and June
}
