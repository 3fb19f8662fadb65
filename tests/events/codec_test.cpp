#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "events/codec.h"
#include "support/paths.h"

using namespace causeway;

namespace {
Event sample() {
  Event e;
  e.partition = 0;
  e.position = 7;
  e.stream = "user-0123";
  e.stream_version = 2;
  e.id = "evt-1";
  e.type = "user.signed_up";
  e.schema_version = 1;
  e.occurred_at_us = 1'700'000'000'123'456;
  e.recorded_at_us = 1'700'000'000'223'456;
  e.tenant = "org-9";
  e.actor = {"user:1", "admin:2"};
  e.subjects = {"user-0123", "user-0456"};
  e.causation_id = "cmd-1";
  e.correlation_id = "req-1";
  e.traceparent = "00-abc-def-01";
  e.data = R"({"user_id":"user-0123"})";
  e.prev_hash.fill(0xab);
  return e;
}

std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

// The frozen format-1 entry's bytes (never regenerate the file).
std::string frozen_sample() {
  std::ifstream in(std::string(CAUSEWAY_FIXTURES) + "/entry_v1.hex");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string hexed = ss.str();
  while (!hexed.empty() && std::isspace(static_cast<unsigned char>(hexed.back()))) hexed.pop_back();
  return unhex(hexed);
}
}  // namespace

TEST_CASE("a log entry decodes to exactly what was encoded") {
  Event e = sample();
  auto bytes = encode_entry(e);
  auto back = decode_entry(bytes);
  REQUIRE(back.ok());
  CHECK(back->stream == e.stream);
  CHECK(back->position == 7);
  CHECK(back->actor == e.actor);
  CHECK(back->subjects == e.subjects);
  CHECK(back->data == e.data);
  CHECK(back->prev_hash == e.prev_hash);
  CHECK(back->hash == e.hash);
}

TEST_CASE("a flipped byte anywhere in an entry is reported as corruption") {
  Event e = sample();
  auto bytes = encode_entry(e);
  for (std::size_t i = 1; i < bytes.size(); i += 7) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = decode_entry(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::corruption);
  }
}

TEST_CASE("a truncated entry or an unknown format version is corruption") {
  Event e = sample();
  auto bytes = encode_entry(e);
  CHECK(decode_entry(bytes.substr(0, bytes.size() - 1)).error().code == Errc::corruption);
  CHECK(decode_entry(bytes.substr(0, 10)).error().code == Errc::corruption);
  bytes[0] = 9;
  CHECK(decode_entry(bytes).error().code == Errc::corruption);
}

TEST_CASE("the hash covers the previous hash, so entries chain") {
  Event a = sample(), b = sample();
  b.prev_hash.fill(0xcd);
  encode_entry(a);
  encode_entry(b);
  CHECK(a.hash != b.hash);
}

TEST_CASE("a stored format-1 entry from the first release still decodes") {
  // Frozen sample: never regenerate. If this fails, the format changed without
  // a version bump.
  auto e = decode_entry(frozen_sample());
  REQUIRE(e.ok());
  CHECK(e->position == 7);
  CHECK(e->stream == "user-0123");
  CHECK(e->type == "user.signed_up");
  CHECK(e->actor.impersonator == "admin:2");
  CHECK(e->subjects.size() == 2);
}

TEST_CASE("the CloudEvents rendering uses the standard attribute names") {
  Event e = sample();
  encode_entry(e);
  auto o = to_cloudevent(e);
  CHECK(o.at("specversion").as_string() == "1.0");
  CHECK(o.at("id").as_string() == "evt-1");
  CHECK(o.at("type").as_string() == "user.signed_up");
  CHECK(o.at("source").as_string() == "/streams/user-0123");
  CHECK(o.at("subject").as_string() == "user-0123");
  CHECK(o.at("time").as_string() == "2023-11-14T22:13:20.123456Z");
  CHECK(o.at("data").as_object().at("user_id").as_string() == "user-0123");
  CHECK(o.at("position").as_uint64() == 7);
}

TEST_CASE("with the hash trusted, a corrupted length is still caught by the bounds checks") {
  Event e = sample();
  auto bytes = encode_entry(e);
  // Byte 14 is inside the stream-name length (after format, endianness, u32, u64).
  for (std::size_t i = 2; i < 40; ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(0xff);
    auto r = decode_entry(bad, HashCheck::trust);
    if (!r.ok()) CHECK(r.error().code == Errc::corruption);
  }
  auto good = decode_entry(bytes, HashCheck::trust);
  REQUIRE(good.ok());
  CHECK(good->data == e.data);
}

TEST_CASE("the direct encoder writes exactly cereal's bytes, and the frozen sample") {
  Event a = sample(), b = sample();
  CHECK(encode_entry(a) == encode_entry_with_cereal(b));
  Event multi = sample();
  multi.subjects = {};
  multi.data = std::string(5000, 'x');
  Event multi2 = multi;
  CHECK(encode_entry(multi) == encode_entry_with_cereal(multi2));
  Event c = sample();
  CHECK(encode_entry(c) == frozen_sample());
}
