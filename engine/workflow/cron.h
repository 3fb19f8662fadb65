// Cron schedules for workflow triggers ({"kind":"schedule","cron":"0 9 * * 1"}),
// always in UTC.
//
// Five fields separated by blanks: minute (0-59), hour (0-23), day of month
// (1-31), month (1-12), day of week (0-7; 0 and 7 are Sunday). Each field is
// a comma-separated list of items; an item is `*`, `n` or `n-m`, optionally
// followed by `/step` (`*/5`, `1-10/2`; `n/step` means n to the field's
// maximum). Names (JAN, MON) and macros (@daily) are not accepted.
//
// Day rule (as Vixie cron): when the day-of-month and the day-of-week fields
// are both restricted (neither starts with `*`), a day matches when either
// matches; otherwise both must match.
#pragma once

#include <bitset>
#include <cstdint>
#include <limits>
#include <string_view>

#include "events/result.h"

namespace causeway::workflow {

struct Cron {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;      // 1-31
  std::bitset<13> months;    // 1-12
  std::bitset<7> weekdays;   // 0 = Sunday
  bool dom_star = true, dow_star = true;  // the field starts with '*'

  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  // The first fire time strictly after `us` (µs since the Unix epoch, UTC):
  // always on a whole minute. kNever when there is none within 400 years or
  // after the year 9999.
  std::int64_t next_after(std::int64_t us) const;
};

// Errors are Error::invalid naming the field and what was expected. A
// schedule that can never fire ("0 0 30 2 *") is refused.
Result<Cron> parse_cron(std::string_view text);

}  // namespace causeway::workflow
