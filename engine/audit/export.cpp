#include "engine/audit/export.h"

#include <algorithm>

#include <sodium.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "events/codec.h"
#include "engine/ids.h"
#include "events/base64.h"
#include "events/csv.h"
#include <future>

namespace causeway::audit {
namespace json = boost::json;

namespace {

std::string line(const json::object& o) { return json::serialize(o) + "\n"; }

json::object link_record(const Event& e) {
  return {{"record", "link"},
          {"position", e.position},
          {"hash", hex(e.hash)},
          {"prev_hash", hex(e.prev_hash)}};
}

Result<json::value> readable_data(const Event& e, KeyVault* vault, const SchemaRegistry& schemas) {
  boost::system::error_code ec;
  json::value data = json::parse(e.data, ec);
  if (ec) return Error::corruption(fmt::format("the payload at position {} is not JSON", e.position));
  schemas.redact_secrets(e.type, e.schema_version, data);
  if (vault)
    if (auto st = vault->open_all(data); !st) return std::move(st).error();
  return data;
}

}  // namespace

bool ExportQuery::matches(const Event& e) const {
  if (e.type == kCheckpointType) return true;
  if (since_us && e.recorded_at_us < *since_us) return false;
  if (until_us && e.recorded_at_us >= *until_us) return false;
  if (!tenant.empty() && e.tenant != tenant) return false;
  if (!actor.empty() && e.actor.id != actor && e.actor.impersonator != actor) return false;
  if (!type.empty() && e.type != type) return false;
  if (!stream.empty() && e.stream != stream) return false;
  if (!subject.empty() && std::find(e.subjects.begin(), e.subjects.end(), subject) == e.subjects.end()) return false;
  return true;
}

json::object ExportQuery::filters_json() const {
  json::object f;
  if (since_us) f["since"] = rfc3339_us(*since_us);
  if (until_us) f["until"] = rfc3339_us(*until_us);
  for (auto [k, v] : {std::pair{"tenant", &tenant}, {"actor", &actor}, {"subject", &subject}, {"type", &type},
                      {"stream", &stream}})
    if (!v->empty()) f[k] = *v;
  return f;
}

namespace {

// One durable record on "<prefix><tenant or global>" (default: the audit reads).
Status append_read_record(EventLog& log, const Actor& actor, const std::string& tenant, const char* type,
                          const json::object& data, std::int64_t now_us, const char* prefix = "audit-reads-") {
  NewEvent e;
  e.stream = prefix + (tenant.empty() ? std::string("global") : tenant);
  e.id = new_id(now_us);
  e.type = type;
  e.occurred_at_us = now_us;
  e.tenant = tenant;
  e.actor = actor;
  e.causation_id = e.id;
  e.correlation_id = e.id;
  e.data = json::serialize(data);
  Commit c;
  c.events.push_back(std::move(e));
  std::promise<Result<Committed>> done;
  auto f = done.get_future();
  log.append(std::move(c), [&done](Result<Committed> r) { done.set_value(std::move(r)); });
  auto r = f.get();
  if (!r) return std::move(r).error();
  return ok_status();
}

}  // namespace

Status record_export(EventLog& log, const Actor& actor, const ExportQuery& q, const std::string& reason,
                     std::int64_t now_us) {
  json::object d{{"reason", reason},
                 {"from", q.from},
                 {"to", q.to},
                 {"filters", q.filters_json()},
                 {"format", q.format == ExportQuery::Format::jsonl ? "jsonl" : "csv"}};
  return append_read_record(log, actor, q.tenant, "audit.exported", d, now_us);
}

Status record_read(EventLog& log, const Actor& actor, const std::string& tenant, json::object data,
                   std::int64_t now_us) {
  return append_read_record(log, actor, tenant, "audit.read", data, now_us);
}

Status record_denied(EventLog& log, const Actor& actor, const std::string& tenant, json::object data,
                     std::int64_t now_us) {
  return append_read_record(log, actor, tenant, "access.denied", data, now_us, "access-denied-");
}

Result<std::vector<Event>> events_about(EventLog& log, const std::string& subject) {
  auto positions = log.subject_positions(subject);
  if (!positions) return std::move(positions).error();
  std::vector<Event> out;
  out.reserve(positions->size());
  for (const auto& at : *positions) {
    auto read = log.read_forward(at.partition, at.position, 1);
    if (!read) return std::move(read).error();
    if (read->empty() || read->front().position != at.position)
      return Error::corruption(fmt::format("the subject index names position {} of partition {}, which is not in the log",
                                           at.position, at.partition));
    out.push_back(std::move(read->front()));
  }
  // Several partitions: in the order they were recorded (one partition is already in log order).
  if (!positions->empty() && positions->front().partition != positions->back().partition)
    std::stable_sort(out.begin(), out.end(),
                     [](const Event& a, const Event& b) { return a.recorded_at_us < b.recorded_at_us; });
  return out;
}

Result<json::array> subject_events(EventLog& log, KeyVault& vault, const SchemaRegistry& schemas,
                                   const std::string& subject) {
  auto about = events_about(log, subject);
  if (!about) return std::move(about).error();
  json::array events;
  events.reserve(about->size());
  for (const Event& e : *about) {
    boost::system::error_code ec;
    auto data = json::parse(e.data, ec);
    if (ec) return Error::corruption("event payload");
    schemas.redact_secrets(e.type, e.schema_version, data);
    if (auto st = vault.open_all(data); !st) return std::move(st).error();
    events.push_back(to_cloudevent(e, data));
  }
  return events;
}

Result<ExportSummary> export_audit(EventLog& log, KeyVault* vault, const SchemaRegistry& schemas,
                                   const PublicKey& public_key, const ExportQuery& q,
                                   const std::function<void(std::string_view)>& sink) {
  const std::uint32_t partition = q.partition;  // one partition per export file
  if (partition >= log.partitions())
    return Error::invalid(fmt::format("the log has no partition {}", partition), "/partition");
  const std::uint64_t head = log.head().offsets[partition];
  const std::uint64_t to = q.to == 0 ? head : std::min(q.to, head);
  const std::uint64_t from = std::max<std::uint64_t>(1, q.from);
  const bool jsonl = q.format == ExportQuery::Format::jsonl;
  ExportSummary out;

  if (jsonl) {
    sink(line({{"causeway_audit_export", 1},
               {"partition", partition},
               {"from", from},
               {"to", to},
               {"filters", q.filters_json()},
               {"exported_at", rfc3339_us(static_cast<std::int64_t>(
                                   std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count()))},
               {"public_key", to_hex(public_key.data(), public_key.size())}}));
  } else {
    sink(csv_line({json::string("position"), json::string("time"), json::string("id"), json::string("type"),
                   json::string("source"), json::string("tenant"), json::string("actor"),
                   json::string("impersonator"), json::string("subjects"), json::string("data")}));
  }

  bool done = false;
  for (std::uint64_t next = from; !done && next <= head;) {
    auto batch = log.read_forward(partition, next, 4096, HashCheck::verify);
    if (!batch) return std::move(batch).error();
    if (batch->empty()) break;
    for (auto& e : *batch) {
      next = e.position + 1;
      const bool in_range = e.position <= to;
      // Past `to`, a JSON-lines file runs on (as links) to the covering checkpoint.
      if (!in_range && (!jsonl || out.signed_to_end)) {
        done = true;
        break;
      }
      const bool checkpoint = jsonl && e.type == kCheckpointType;
      if (checkpoint) {
        boost::system::error_code ec;
        auto d = json::parse(e.data, ec);
        if (!ec && d.is_object())
          if (auto c = checkpoint_from_json(d.as_object()); c && c->position >= to) out.signed_to_end = true;
      }
      out.last_position = e.position;
      if (!checkpoint && !(in_range && q.matches(e))) {
        if (jsonl) sink(line(link_record(e)));
        continue;
      }
      auto data = readable_data(e, vault, schemas);
      if (!data) return std::move(data).error();
      if (in_range && e.type != kCheckpointType) ++out.events;
      if (jsonl) {
        Event copy = e;
        json::object rec = link_record(e);
        rec["record"] = "event";
        rec["entry"] = base64_encode(encode_entry(copy));
        rec["event"] = to_cloudevent(e, *data);
        sink(line(rec));
      } else {
        json::array subjects;
        for (const auto& s : e.subjects) subjects.emplace_back(s);
        sink(csv_line({json::value(e.position), json::string(rfc3339_us(e.recorded_at_us)), json::string(e.id),
                       json::string(e.type), json::string(e.stream), json::string(e.tenant),
                       json::string(e.actor.id), json::string(e.actor.impersonator),
                       json::string(json::serialize(subjects)), json::string(json::serialize(*data))}));
      }
    }
  }
  if (jsonl)
    sink(line({{"record", "end"},
               {"events", out.events},
               {"last_position", out.last_position},
               {"signed_to_end", out.signed_to_end}}));
  return out;
}

}  // namespace causeway::audit
