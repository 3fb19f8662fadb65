#include "engine/workflow/cron.h"

#include <charconv>
#include <chrono>
#include <fmt/format.h>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace causeway::workflow {
namespace chr = std::chrono;

namespace {

constexpr std::int64_t kMinuteUs = 60'000'000;
constexpr std::int64_t kMinutesPerDay = 1440;
constexpr std::int64_t kSearchDays = 146'097;  // 400 years: the Gregorian cycle
// 10000-01-01T00:00:00Z in minutes since the epoch.
constexpr std::int64_t kEndMinute = 253'402'300'800LL / 60;

struct FieldSpec {
  const char* name;
  int lo, hi;
};
constexpr FieldSpec kFields[] = {
    {"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 7}};

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::optional<int> number(std::string_view s) {
  int v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// Sets the bits of one field; returns an error message, empty when fine.
std::string parse_field(std::string_view text, const FieldSpec& f, std::bitset<64>& bits) {
  auto bad = [&](std::string_view item, const std::string& what) {
    return fmt::format("cron {} field: expected {}, found '{}'", f.name, what, item);
  };
  const auto range_what = fmt::format("a number from {} to {}", f.lo, f.hi);
  while (true) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    auto slash = item.find('/');
    auto range = item.substr(0, slash);
    int step = 1;
    if (slash != std::string_view::npos) {
      auto s = number(item.substr(slash + 1));
      if (!s || *s < 1) return bad(item, "a step of 1 or more after '/'");
      step = *s;
    }
    int lo = f.lo, hi = f.hi;
    if (range != "*") {
      auto dash = range.find('-');
      auto a = number(range.substr(0, dash));
      if (!a || *a < f.lo || *a > f.hi) return bad(item, range_what);
      lo = *a;
      hi = slash == std::string_view::npos ? *a : f.hi;
      if (dash != std::string_view::npos) {
        auto b = number(range.substr(dash + 1));
        if (!b || *b < f.lo || *b > f.hi) return bad(item, range_what);
        if (*b < *a) return bad(item, "a range from low to high");
        hi = *b;
      }
    }
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<std::size_t>(v));
    if (comma == std::string_view::npos) return {};
    text.remove_prefix(comma + 1);
  }
}

unsigned days_in(int month, bool leap) {
  static constexpr unsigned kDays[] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && leap ? 29 : kDays[month];
}

}  // namespace

Result<Cron> parse_cron(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    auto start = pos;
    while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t') ++pos;
    if (pos > start) fields.push_back(text.substr(start, pos - start));
  }
  if (fields.size() != 5)
    return Error::invalid(fmt::format(
        "expected 5 cron fields (minute hour day-of-month month day-of-week), found {}", fields.size()));
  std::bitset<64> bits[5];
  for (int i = 0; i < 5; ++i)
    if (auto err = parse_field(fields[i], kFields[i], bits[i]); !err.empty()) return Error::invalid(err);
  Cron c;
  for (std::size_t v = 0; v < 60; ++v) c.minutes[v] = bits[0][v];
  for (std::size_t v = 0; v < 24; ++v) c.hours[v] = bits[1][v];
  for (std::size_t v = 1; v < 32; ++v) c.days[v] = bits[2][v];
  for (std::size_t v = 1; v < 13; ++v) c.months[v] = bits[3][v];
  for (std::size_t v = 0; v < 7; ++v) c.weekdays[v] = bits[4][v];
  if (bits[4][7]) c.weekdays[0] = true;
  c.dom_star = fields[2].front() == '*';
  c.dow_star = fields[4].front() == '*';
  // When both day fields must match, some listed month must have a listed day.
  if (c.dom_star || c.dow_star) {
    bool fires = false;
    for (int m = 1; m <= 12 && !fires; ++m)
      for (unsigned d = 1; d <= days_in(m, true) && !fires; ++d) fires = c.months[m] && c.days[d];
    if (!fires) return Error::invalid("cron schedule never fires: no listed month has a listed day of month");
  }
  return c;
}

std::int64_t Cron::next_after(std::int64_t us) const {
  if (us >= kEndMinute * kMinuteUs) return kNever;
  std::int64_t m = floor_div(us, kMinuteUs) + 1;  // minutes since the epoch
  const std::int64_t first_day = floor_div(m, kMinutesPerDay);
  while (m < kEndMinute) {
    const std::int64_t day = floor_div(m, kMinutesPerDay);
    if (day - first_day > kSearchDays) return kNever;
    const chr::sys_days date{chr::days{day}};
    const chr::year_month_day ymd{date};
    const auto month = static_cast<unsigned>(ymd.month());
    if (!months[month]) {
      const auto next = chr::year_month_day{ymd.year() / ymd.month() / 1} + chr::months{1};
      m = chr::sys_days{next}.time_since_epoch().count() * kMinutesPerDay;
      continue;
    }
    const bool dom = days[static_cast<unsigned>(ymd.day())];
    const bool dow = weekdays[chr::weekday{date}.c_encoding()];
    if (!(dom_star || dow_star ? dom && dow : dom || dow)) {
      m = (day + 1) * kMinutesPerDay;
      continue;
    }
    const std::int64_t in_day = m - day * kMinutesPerDay;
    const auto hour = static_cast<std::size_t>(in_day / 60);
    auto minute = static_cast<std::size_t>(in_day % 60);
    if (hours[hour]) {
      while (minute < 60 && !minutes[minute]) ++minute;
      if (minute < 60) return (day * kMinutesPerDay + static_cast<std::int64_t>(hour * 60 + minute)) * kMinuteUs;
    }
    m = day * kMinutesPerDay + static_cast<std::int64_t>(hour + 1) * 60;
  }
  return kNever;
}

}  // namespace causeway::workflow
