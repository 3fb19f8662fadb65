// Encodings of the idempotency and aggregate records (docs/formats.md).
//
//   idempotency record, format 1 (cereal PortableBinary after the byte):
//   | u8=1 | i64 created_at_us | string fingerprint | string response |
//
//   aggregate record, format 1:
//   | u8=1 | u32 state format | u64 stream version | string state bytes |
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "events/event_log.h"

namespace causeway {

struct IdempotencyRecord {
  std::int64_t created_at_us = 0;
  std::string fingerprint;
  std::string response;
};

std::string encode_idempotency(const IdempotencyRecord& r);
std::optional<IdempotencyRecord> decode_idempotency(std::string_view bytes);

std::string encode_aggregate(const AggregateSnapshot& s);
std::optional<AggregateSnapshot> decode_aggregate(std::string_view bytes);

}  // namespace causeway
