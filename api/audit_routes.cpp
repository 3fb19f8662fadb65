// The audit routes: a signed, verifiable export of the log, and the public key
// that verifies it (engine/audit/).
#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <fmt/format.h>

#include "api/routes.h"
#include "engine/async.h"
#include "engine/audit/export.h"
#include "events/codec.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

namespace {

std::optional<std::uint64_t> u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Response Api::audit_public_key(const Request& req, const std::string&) {
  const auto& pk = signer_->public_key();
  return json_response(http::status::ok,
                       json::serialize(json::object{{"algorithm", "Ed25519"},
                                                    {"public_key", audit::to_hex(pk.data(), pk.size())}}),
                       req.version());
}

awaitable<Response> Api::audit_export(Request& req, const std::string& request_id, const boost::urls::url_view& url) {
  const unsigned ver = req.version();
  const std::string instance(url.encoded_path());
  auto who = authenticate(req);
  if (!who) co_return problem(who.error(), instance, request_id, ver);
  if (!who->admin && who->role != "owner" && who->role != "compliance_officer")
    co_return problem(403, "only owners and compliance officers read the audit log", "", instance, request_id, ver);

  audit::ExportQuery q;
  std::string reason;
  for (auto p : url.params()) {
    std::string k = p.key, v = p.value;
    auto bad = [&](const std::string& why) { return problem(400, why, "", instance, request_id, ver); };
    if (k == "partition") {
      auto n = u64(v);
      if (!n || *n >= log_.partitions())
        co_return bad(fmt::format("partition must be a partition of the log (0 to {})", log_.partitions() - 1));
      q.partition = static_cast<std::uint32_t>(*n);
    } else if (k == "from" || k == "to") {
      auto n = u64(v);
      if (!n) co_return bad(fmt::format("{} must be a log position", k));
      (k == "from" ? q.from : q.to) = *n;
    } else if (k == "since" || k == "until") {
      auto t = parse_rfc3339_us(v);
      if (!t) co_return bad(fmt::format("{} must be an RFC 3339 UTC time", k));
      (k == "since" ? q.since_us : q.until_us) = *t;
    } else if (k == "tenant") {
      q.tenant = v;
    } else if (k == "actor") {
      q.actor = v;
    } else if (k == "subject") {
      q.subject = v;
    } else if (k == "type") {
      q.type = v;
    } else if (k == "stream") {
      q.stream = v;
    } else if (k == "reason") {
      reason = v;
    } else {
      co_return bad(fmt::format("unknown query parameter {}", k));
    }
  }
  if (reason.empty() || reason.size() > 500)
    co_return problem(400, "reason is required (1 to 500 characters): reading the audit log is recorded", "", instance,
                      request_id, ver);
  if (!who->admin) {
    if (!q.tenant.empty() && q.tenant != who->tenant)
      co_return problem(403, "a key reads its own organization's audit log only", "", instance, request_id, ver);
    q.tenant = who->tenant;
  }
  const std::uint64_t head = log_.head().offsets[q.partition];
  const std::uint64_t to = q.to == 0 ? head : std::min(q.to, head);
  if (q.from == 0) q.from = 1;
  // The range as it will be exported: up to the head plus the read record and
  // its checkpoint, which this export appends.
  if (to + 2 >= q.from && to + 2 - q.from + 1 > cfg_.audit_export_max_positions)
    co_return problem(413,
                      fmt::format("ask for at most {} positions per request (from/to), or use `causeway audit export`",
                                  cfg_.audit_export_max_positions),
                      "", instance, request_id, ver);
  if (auto it = req.find(http::field::accept); it != req.end() && it->value().find("text/csv") != std::string_view::npos)
    q.format = audit::ExportQuery::Format::csv;

  const Actor actor = actor_of(*who);
  // Off the I/O threads: two durable appends (the read record, a checkpoint
  // covering it) and the export itself. A read-only server appends nothing:
  // its export ends at the newest checkpoint the copy holds. Captures by
  // reference only (GCC 12).
  auto result = co_await run_on(pipeline_.cpu(), [&]() -> Result<std::string> {
    Result<std::vector<audit::Checkpoint>> cps = std::vector<audit::Checkpoint>{};
    if (audit_read_unrecorded(actor, "export")) {
      cps = checkpointer_->latest_stored();
    } else {
      if (auto st = audit::record_export(log_, actor, q, reason, pipeline_.clock().now_us()); !st)
        return std::move(st).error();
      cps = checkpointer_->checkpoint_now();
    }
    if (!cps) return std::move(cps).error();
    // End where the signature ends: everything exported is then covered.
    if (cps->size() <= q.partition) return Error::unavailable("no checkpoint of that partition yet");
    const std::uint64_t signed_to = (*cps)[q.partition].position;
    q.to = q.to == 0 ? signed_to : std::min(q.to, signed_to);
    std::string out;
    auto summary = audit::export_audit(log_, &vault_, pipeline_.schemas(), signer_->public_key(), q,
                                       [&](std::string_view line) { out.append(line); });
    if (!summary) return std::move(summary).error();
    return out;
  });
  if (!result) co_return problem(result.error(), instance, request_id, ver);
  co_return json_response(http::status::ok, std::move(result).value(), ver,
                          q.format == audit::ExportQuery::Format::csv ? "text/csv; charset=utf-8"
                                                                      : "application/x-ndjson");
}

}  // namespace causeway::api
