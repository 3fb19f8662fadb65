// Log entry encoding, format version 1.
//
//   stored value (RocksDB "log" column family, key = big-endian u64 position)
//   +--------+----------------------------------------------+-------------+
//   | format |  body: cereal PortableBinary (little endian) |  hash       |
//   |  u8=1  |  fields in the order below                   |  32 bytes   |
//   +--------+----------------------------------------------+-------------+
//   The body starts with cereal's one-byte endianness flag (0x01 = little).
//   hash = BLAKE2b-256(format || body); body ends with prev_hash, so each
//   entry's hash covers the previous one (the audit chain, contract 8).
//
//   body fields (strings are u64 length + bytes, vectors u64 count + items):
//     u32 partition        u64 position        string stream
//     u64 stream_version   string id           string type
//     u32 schema_version   i64 occurred_at_us  i64 recorded_at_us
//     string tenant        string actor.id     string actor.impersonator
//     vector<string> subjects                  string causation_id
//     string correlation_id string traceparent string data (sealed JSON)
//     u8[32] prev_hash
#include "events/codec.h"

#include <sodium.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <boost/json/parse.hpp>
#include <bit>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fmt/format.h>
#include <sstream>

namespace causeway {
namespace {

// The one list of the body's fields, in stored order: used by the direct
// writer and reader below and by cereal (the reference encoder).
template <class Archive>
void fields(Archive& ar, Event& e) {
  ar(e.partition, e.position, e.stream, e.stream_version, e.id, e.type, e.schema_version,
     e.occurred_at_us, e.recorded_at_us, e.tenant, e.actor.id, e.actor.impersonator, e.subjects,
     e.causation_id, e.correlation_id, e.traceparent, e.data, e.prev_hash);
}

Hash blake(std::string_view bytes) {
  Hash h;
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                     nullptr, 0);
  return h;
}

}  // namespace

namespace {
// Writes the cereal PortableBinary layout directly (little-endian host, as the
// reader asserts). The frozen format-1 sample in tests/ pins the bytes.
class BodyWriter {
 public:
  explicit BodyWriter(std::string& out) : out_(out) {}
  template <class T>
  void num(T v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void str(const std::string& s) {
    num<std::uint64_t>(s.size());
    out_.append(s);
  }
  void strs(const std::vector<std::string>& v) {
    num<std::uint64_t>(v.size());
    for (const auto& s : v) str(s);
  }
  // Archive-style entry point, so fields() serves this writer and cereal alike.
  template <class... Ts>
  void operator()(const Ts&... vs) { (one(vs), ...); }

 private:
  template <class T>
  void one(const T& v) { num(v); }
  void one(const std::string& v) { str(v); }
  void one(const std::vector<std::string>& v) { strs(v); }
  void one(const Hash& h) { out_.append(reinterpret_cast<const char*>(h.data()), h.size()); }

  std::string& out_;
};
}  // namespace

std::string encode_entry(Event& e) {
  std::string out;
  out.reserve(160 + e.stream.size() + e.id.size() + e.type.size() + e.tenant.size() + e.actor.id.size() +
              e.causation_id.size() + e.correlation_id.size() + e.traceparent.size() + e.data.size() +
              e.subjects.size() * 48);
  out.push_back(static_cast<char>(kEntryFormat));
  out.push_back(1);  // cereal's endianness flag: little-endian
  BodyWriter w(out);
  fields(w, e);
  e.hash = blake(out);
  out.append(reinterpret_cast<const char*>(e.hash.data()), e.hash.size());
  return out;
}

std::string encode_entry_with_cereal(Event& e) {
  std::ostringstream os(std::ios::binary);
  os.put(static_cast<char>(kEntryFormat));
  {
    cereal::PortableBinaryOutputArchive ar(os);
    fields(ar, e);
  }
  std::string out = std::move(os).str();
  e.hash = blake(out);
  out.append(reinterpret_cast<const char*>(e.hash.data()), e.hash.size());
  return out;
}

namespace {

// Reads the cereal PortableBinary layout directly from the bytes: no stream,
// no exceptions, bounds checked on every field (a length can never make it
// read or allocate past the end). tests/events/codec_test.cpp decodes what
// cereal encoded, including the frozen format-1 sample, to pin the two together.
class BodyReader {
 public:
  BodyReader(const char* p, const char* end) : p_(p), end_(end) {}
  bool ok() const { return ok_ && p_ == end_; }
  template <class T>
  void num(T& v) {
    static_assert(std::endian::native == std::endian::little, "add byte swapping for big-endian hosts");
    if (!ok_ || static_cast<std::size_t>(end_ - p_) < sizeof(T)) { ok_ = false; return; }
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
  }
  void str(std::string& s) {
    std::uint64_t n = 0;
    num(n);
    if (!ok_ || n > static_cast<std::uint64_t>(end_ - p_)) { ok_ = false; return; }
    s.assign(p_, static_cast<std::size_t>(n));
    p_ += n;
  }
  void strs(std::vector<std::string>& v) {
    std::uint64_t n = 0;
    num(n);
    // Each string takes at least its 8-byte length: bound the count by the bytes left.
    if (!ok_ || n > static_cast<std::uint64_t>(end_ - p_) / 8) { ok_ = false; return; }
    v.resize(static_cast<std::size_t>(n));
    for (auto& s : v) str(s);
  }
  void raw(std::uint8_t* out, std::size_t n) {
    if (!ok_ || static_cast<std::size_t>(end_ - p_) < n) { ok_ = false; return; }
    std::memcpy(out, p_, n);
    p_ += n;
  }
  template <class... Ts>
  void operator()(Ts&... vs) { (one(vs), ...); }

 private:
  template <class T>
  void one(T& v) { num(v); }
  void one(std::string& v) { str(v); }
  void one(std::vector<std::string>& v) { strs(v); }
  void one(Hash& h) { raw(h.data(), h.size()); }

  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace

Result<Event> decode_entry(std::string_view bytes, HashCheck check) {
  if (bytes.size() < 2 + 32) return Error::corruption("log entry truncated");
  if (static_cast<std::uint8_t>(bytes[0]) != kEntryFormat)
    return Error::corruption(fmt::format("unknown log entry format {}", static_cast<int>(bytes[0])));
  auto body = bytes.substr(0, bytes.size() - 32);
  Hash stored;
  std::memcpy(stored.data(), bytes.data() + body.size(), 32);
  if (check == HashCheck::verify && blake(body) != stored) return Error::corruption("log entry hash mismatch");
  if (body[1] != 1) return Error::corruption("log entry is not little-endian portable binary");
  Event e;
  BodyReader r(body.data() + 2, body.data() + body.size());
  fields(r, e);
  if (!r.ok()) return Error::corruption("log entry body does not decode");
  e.hash = stored;
  return e;
}

Result<EntryLinks> peek_entry(std::string_view bytes, HashCheck check) {
  if (bytes.size() < 2 + 32 + 32) return Error::corruption("log entry truncated");
  if (static_cast<std::uint8_t>(bytes[0]) != kEntryFormat)
    return Error::corruption(fmt::format("unknown log entry format {}", static_cast<int>(bytes[0])));
  auto body = bytes.substr(0, bytes.size() - 32);
  EntryLinks out;
  std::memcpy(out.hash.data(), bytes.data() + body.size(), 32);
  if (check == HashCheck::verify && blake(body) != out.hash) return Error::corruption("log entry hash mismatch");
  if (body[1] != 1) return Error::corruption("log entry is not little-endian portable binary");
  std::memcpy(out.prev_hash.data(), body.data() + body.size() - 32, 32);  // the body's last field
  // partition u32, position u64, stream, stream_version u64, id, type
  std::size_t at = 2 + 4;
  auto u64 = [&](std::uint64_t& v) {
    if (body.size() - 32 - at < 8) return false;
    std::memcpy(&v, body.data() + at, 8);
    at += 8;
    return true;
  };
  auto skip_str = [&](std::string_view* s) {
    std::uint64_t n = 0;
    if (!u64(n) || n > body.size() - 32 - at) return false;
    if (s) *s = body.substr(at, static_cast<std::size_t>(n));
    at += static_cast<std::size_t>(n);
    return true;
  };
  std::uint64_t ignored = 0;
  if (!u64(out.position) || !skip_str(nullptr) || !u64(ignored) || !skip_str(nullptr) || !skip_str(&out.type))
    return Error::corruption("log entry body does not decode");
  return out;
}

std::string hex(const Hash& h) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(64, '0');
  for (std::size_t i = 0; i < h.size(); ++i) {
    s[2 * i] = digits[h[i] >> 4];
    s[2 * i + 1] = digits[h[i] & 15];
  }
  return s;
}

std::optional<std::int64_t> parse_rfc3339_us(std::string_view s) {
  std::tm tm{};
  std::string text(s);
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) return std::nullopt;
  std::int64_t frac = 0;
  if (*end == '.') {
    int digits = 0;
    for (++end; *end >= '0' && *end <= '9'; ++end)
      if (digits++ < 6) frac = frac * 10 + (*end - '0');
    if (digits == 0) return std::nullopt;
    for (; digits < 6; ++digits) frac *= 10;
  }
  if (std::string_view(end) != "Z") return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm)) * 1'000'000 + frac;
}

std::string rfc3339_us(std::int64_t us) {
  std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  long frac = static_cast<long>(us % 1'000'000);
  if (frac < 0) { frac += 1'000'000; --secs; }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

boost::json::object to_cloudevent(const Event& e, const boost::json::value& data) {
  boost::json::object o;
  o["specversion"] = "1.0";
  o["id"] = e.id;
  o["source"] = "/streams/" + e.stream;
  o["type"] = e.type;
  if (!e.subjects.empty()) o["subject"] = e.subjects.front();
  o["time"] = rfc3339_us(e.occurred_at_us);
  o["datacontenttype"] = "application/json";
  o["dataschema"] = fmt::format("causeway:schemas/events/{}.v{}.json", e.type, e.schema_version);
  o["position"] = e.position;
  o["partition"] = e.partition;
  o["streamid"] = e.stream;
  o["streamversion"] = e.stream_version;
  o["recordedtime"] = rfc3339_us(e.recorded_at_us);
  if (!e.tenant.empty()) o["tenant"] = e.tenant;
  o["actor"] = e.actor.id;
  if (!e.actor.impersonator.empty()) o["impersonator"] = e.actor.impersonator;
  boost::json::array subjects;
  for (const auto& s : e.subjects) subjects.emplace_back(s);
  o["subjects"] = std::move(subjects);
  if (!e.causation_id.empty()) o["causationid"] = e.causation_id;
  if (!e.correlation_id.empty()) o["correlationid"] = e.correlation_id;
  if (!e.traceparent.empty()) o["traceparent"] = e.traceparent;
  o["prevhash"] = hex(e.prev_hash);
  o["hash"] = hex(e.hash);
  o["data"] = data;
  return o;
}

boost::json::object to_cloudevent(const Event& e) {
  boost::system::error_code ec;
  auto v = boost::json::parse(e.data, ec);
  return to_cloudevent(e, ec ? boost::json::value(e.data) : v);
}

std::string blake2b_hex(std::string_view bytes) { return hex(blake(bytes)); }

}  // namespace causeway
