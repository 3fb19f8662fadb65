// Binary encoding of log entries and their JSON rendering.
//
// The binary layout is drawn at the top of codec.cpp and documented in
// docs/formats.md. Every change to it bumps kEntryFormat; decode() keeps reading
// every older version, and tests/events/fixtures holds a stored sample of each.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "events/envelope.h"
#include "events/result.h"

namespace causeway {

inline constexpr std::uint8_t kEntryFormat = 1;

// Encodes `e` (its `hash` is ignored) and computes its chain hash over the bytes,
// which covers `prev_hash`. Returns the stored value; `e.hash` is set.
std::string encode_entry(Event& e);
// The same bytes through cereal itself: the reference that encode_entry and
// decode_entry are tested against (tests/events/codec_test.cpp).
std::string encode_entry_with_cereal(Event& e);

// Decodes a stored value. Fails with Errc::corruption on a truncated value, an
// unknown format version or (with HashCheck::verify) a hash that does not match
// the bytes. HashCheck::trust skips only the hash: for bulk replay, where
// RocksDB's block checksums already guard the bytes and `log verify` checks the
// chain; every field is still bounds-checked.
Result<Event> decode_entry(std::string_view bytes, HashCheck check = HashCheck::verify);

// What chain verification needs of a stored value, without decoding the rest
// (no allocation): its position, its type (a view into `bytes`), and its links.
// The hash is checked as decode_entry does; the fields after the type are not
// read, so a body damaged there is only caught by the hash.
struct EntryLinks {
  std::uint64_t position = 0;
  std::string_view type;
  Hash prev_hash{};
  Hash hash{};
};
Result<EntryLinks> peek_entry(std::string_view bytes, HashCheck check = HashCheck::verify);

// CloudEvents 1.0 JSON (structured mode) with Causeway extension attributes.
// `data` is the payload as given (sealed fields stay sealed unless the caller
// opened them first).
boost::json::object to_cloudevent(const Event& e, const boost::json::value& data);
boost::json::object to_cloudevent(const Event& e);  // parses e.data

std::string hex(const Hash& h);
// Hex BLAKE2b-256 of `bytes` (unkeyed): what is kept instead of a secret or a
// text that may hold personal data.
std::string blake2b_hex(std::string_view bytes);
std::string rfc3339_us(std::int64_t micros_since_epoch);
// "2026-11-22T10:00:00Z" or with a fraction of up to 6 digits; UTC only.
std::optional<std::int64_t> parse_rfc3339_us(std::string_view text);

}  // namespace causeway
