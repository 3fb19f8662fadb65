#include "engine/retention/buckets.h"

#include <chrono>
#include <fmt/format.h>

namespace causeway::retention {
namespace chr = std::chrono;

std::string_view category_of(std::string_view type) { return type.substr(0, type.find('.')); }

std::int32_t day_of(std::int64_t time_us) {
  auto days = time_us >= 0 ? time_us / kDayUs : -((-time_us + kDayUs - 1) / kDayUs);
  return static_cast<std::int32_t>(days);
}

std::string date_of(std::int32_t day) {
  chr::year_month_day ymd{chr::sys_days{chr::days{day}}};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

std::optional<std::int32_t> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto num = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (!y || !m || !d) return std::nullopt;
  chr::year_month_day ymd{chr::year{*y}, chr::month{static_cast<unsigned>(*m)}, chr::day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<std::int32_t>(chr::sys_days{ymd}.time_since_epoch().count());
}

std::string bucket_id(const Bucket& b) {
  return fmt::format("ret~{}~{}~{}", date_of(b.day), b.tenant.empty() ? "-" : b.tenant, b.category);
}

std::optional<Bucket> parse_bucket(std::string_view id) {
  if (id.substr(0, 4) != "ret~") return std::nullopt;
  id.remove_prefix(4);
  auto a = id.find('~');
  if (a == std::string_view::npos) return std::nullopt;
  auto b = id.find('~', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  auto day = parse_date(id.substr(0, a));
  if (!day) return std::nullopt;
  Bucket out;
  out.day = *day;
  std::string_view tenant = id.substr(a + 1, b - a - 1);
  out.tenant = tenant == "-" ? std::string() : std::string(tenant);
  out.category = std::string(id.substr(b + 1));
  if (tenant.empty() || out.category.empty()) return std::nullopt;
  return out;
}

std::string bucket_for(std::string_view tenant, std::string_view event_type, std::int64_t time_us) {
  return bucket_id(Bucket{day_of(time_us), std::string(tenant), std::string(category_of(event_type))});
}

std::string scope_of(const Bucket& b) { return b.tenant.empty() ? "all" : b.tenant; }

}  // namespace causeway::retention
