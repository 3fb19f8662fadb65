#include "engine/audit/verify_export.h"

#include <sodium.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <map>

#include "engine/audit/chain.h"
#include "engine/verify.h"
#include "events/base64.h"
#include "events/codec.h"
#include "events/key_vault.h"

namespace causeway::audit {
namespace json = boost::json;

namespace {

std::string str(const json::object& o, const char* k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Whether the readable rendering says what the stored entry says. Personal
// (sealed) payload fields are opened or erased in the rendering, so they are
// left out; every other field must be equal.
std::optional<std::string> rendering_mismatch(const Event& e, const json::object& rendered) {
  const json::object expected = to_cloudevent(e, json::parse(e.data));
  for (const auto& [k, v] : expected) {
    auto* got = rendered.if_contains(k);
    if (!got) return fmt::format("the readable event lacks \"{}\"", std::string_view(k));
    if (k != "data") {
      if (*got != v) return fmt::format("the readable \"{}\" differs from the stored entry", std::string_view(k));
      continue;
    }
    if (!v.is_object() || !got->is_object()) {
      if (*got != v) return std::string("the readable data differs from the stored entry");
      continue;
    }
    for (const auto& [field, value] : v.as_object()) {
      if (is_sealed(value)) continue;
      auto* g = got->as_object().if_contains(field);
      if (!g || *g != value)
        return fmt::format("the readable data field \"{}\" differs from the stored entry", std::string_view(field));
    }
    if (got->as_object().size() != v.as_object().size())
      return std::string("the readable data has fields the stored entry does not");
  }
  if (rendered.size() != expected.size()) return std::string("the readable event has attributes the entry does not");
  return std::nullopt;
}

Result<Hash> parse_hash(const json::object& o, const char* k) {
  Hash h{};
  std::string s = str(o, k);
  std::size_t len = 0;
  if (s.size() != 64 || sodium_hex2bin(h.data(), h.size(), s.data(), s.size(), nullptr, &len, nullptr) != 0)
    return Error::invalid(fmt::format("\"{}\" is not a 32-byte hex hash", k));
  return h;
}

}  // namespace

AuditReport verify_export(std::istream& in, const PublicKey& key) {
  Chain ch;
  std::string text;
  std::uint64_t line_no = 0, expect = 0, last_event = 0;
  std::optional<Hash> prev;
  bool ended = false;
  while (std::getline(in, text)) {
    ++line_no;
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) {
      ch.fail(fmt::format("line {} is not a JSON object", line_no), expect);
      return ch.r;
    }
    auto& o = v.as_object();
    if (line_no == 1) {
      auto* fmt_version = o.if_contains("causeway_audit_export");
      auto* from = o.if_contains("from");
      if (!fmt_version || *fmt_version != 1 || !from || !from->is_number()) {
        ch.fail("the first line is not a Causeway audit export header (format 1)", 0);
        return ch.r;
      }
      expect = from->to_number<std::uint64_t>();
      // The chain's partition: its checkpoints must sign this one (absent: 0, as before partitions).
      if (auto* part = o.if_contains("partition")) {
        boost::system::error_code ec;
        ch.partition = part->to_number<std::uint32_t>(ec);
        if (ec) {
          ch.fail("the header's partition is not a partition number", 0);
          return ch.r;
        }
      }
      continue;
    }
    if (ended) {
      ch.fail(fmt::format("line {} follows the end record", line_no), expect);
      return ch.r;
    }
    const std::string kind = str(o, "record");
    if (kind == "end") {
      ended = true;
      continue;
    }
    auto* posv = o.if_contains("position");
    if ((kind != "event" && kind != "link") || !posv || !posv->is_number()) {
      ch.fail(fmt::format("line {} is not an event, link or end record", line_no), expect);
      return ch.r;
    }
    const std::uint64_t position = posv->to_number<std::uint64_t>(ec);
    if (ec || position != expect) {
      ch.fail(fmt::format("expected the record for position {}, found position {} (line {}): a record was removed, "
                          "reordered or inserted",
                          expect, ec ? 0 : position, line_no),
              expect);
      return ch.r;
    }
    auto hash = parse_hash(o, "hash");
    auto prev_hash = parse_hash(o, "prev_hash");
    if (!hash || !prev_hash) {
      ch.fail(fmt::format("the record at position {} has a malformed hash", position), position);
      return ch.r;
    }
    if (prev && *prev_hash != *prev) {
      ch.fail(fmt::format("the record at position {} does not link to the one before it", position), position);
      return ch.r;
    }
    if (kind == "event") {
      auto raw = base64_decode(str(o, "entry"));
      auto* rendered = o.if_contains("event");
      if (!raw || !rendered || !rendered->is_object()) {
        ch.fail(fmt::format("the record at position {} lacks its entry or event", position), position);
        return ch.r;
      }
      auto e = decode_entry(*raw, HashCheck::verify);
      if (!e) {
        ch.fail(fmt::format("the stored entry at position {} is altered: {}", position, e.error().message), position);
        return ch.r;
      }
      if (e->position != position || e->hash != *hash || e->prev_hash != *prev_hash) {
        ch.fail(fmt::format("the record at position {} does not match its stored entry", position), position);
        return ch.r;
      }
      try {
        if (auto why = rendering_mismatch(*e, rendered->as_object())) {
          ch.fail(fmt::format("position {}: {}", position, *why), position);
          return ch.r;
        }
      } catch (const std::exception&) {
        ch.fail(fmt::format("the stored payload at position {} is not JSON", position), position);
        return ch.r;
      }
      ch.remember(position, *hash);
      if (e->type == kCheckpointType) {
        if (!ch.check_checkpoint(e->data, position, key)) return ch.r;
      } else {
        last_event = position;
        ++ch.r.events;
      }
    } else {
      ch.remember(position, *hash);
    }
    prev = *hash;
    ++ch.r.records;
    ++expect;
  }
  if (!ended) {
    ch.fail("the file ends without its end record: it was cut short", expect);
  } else if (last_event > ch.r.signed_to) {
    ch.fail(fmt::format("events after position {} are not covered by a signed checkpoint", ch.r.signed_to),
            ch.r.signed_to + 1);
  }
  return ch.r;
}

}  // namespace causeway::audit
