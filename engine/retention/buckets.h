// Retention buckets: the key that seals one day's personal fields of one tenant
// and one event category (engine/aggregates/retention.h, events/key_vault.h).
//
//   id = "ret~" <yyyy-mm-dd> "~" <tenant, or "-" for none> "~" <category>
//
// The date leads so that ids sort by day: every bucket older than a cut-off is
// one range scan of the key store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causeway::retention {

inline constexpr std::int64_t kDayUs = 86'400'000'000;

struct Bucket {
  std::int32_t day = 0;  // days since 1970-01-01 (UTC)
  std::string tenant;    // "" for events of no tenant
  std::string category;
};

// "user.signed_up" -> "user".
std::string_view category_of(std::string_view event_type);
std::int32_t day_of(std::int64_t time_us);
std::string date_of(std::int32_t day);                         // "2026-11-22"
std::optional<std::int32_t> parse_date(std::string_view date);  // inverse of date_of
std::string bucket_id(const Bucket& b);
std::optional<Bucket> parse_bucket(std::string_view id);
// The bucket sealing a personal field of an event recorded at `time_us`.
std::string bucket_for(std::string_view tenant, std::string_view event_type, std::int64_t time_us);
// "all" for the tenant-less bucket, else the tenant.
std::string scope_of(const Bucket& b);

}  // namespace causeway::retention
