#include "engine/pipeline.h"
#include "engine/retention/buckets.h"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "engine/async.h"
#include "engine/ids.h"

namespace causeway {
namespace json = boost::json;

namespace {
std::string idempotency_scope(const CommandContext& ctx);
Result<CommandOutcome> outcome_from(const std::string& response, bool replayed);
}  // namespace

CommandPipeline::CommandPipeline(EventLog& log, KeyVault& vault, const SchemaRegistry& schemas,
                                 const Upcaster& upcaster, const Clock& clock, boost::asio::any_io_executor cpu,
                                 Options opts)
    : log_(log),
      vault_(vault),
      schemas_(schemas),
      clock_(clock),
      cpu_(std::move(cpu)),
      opts_(opts),
      aggregates_(log, upcaster, opts.state_cache) {}

void CommandPipeline::add_command(const std::string& name, CommandHandler h) { handlers_[name] = std::move(h); }

namespace {
// Scoped so one client's key can never replay another's reply.
std::string idempotency_scope(const CommandContext& ctx) {
  if (ctx.idempotency_key.empty()) return {};
  return fmt::format("{}\x1f{}\x1f{}", ctx.tenant, ctx.actor.id, ctx.idempotency_key);
}

Result<CommandOutcome> outcome_from(const std::string& response, bool replayed) {
  try {
    boost::system::error_code ec;
    auto v = json::parse(response, ec);
    if (ec || !v.is_object()) return Error::corruption("a stored reply does not decode");
    auto& o = v.as_object();
    CommandOutcome out;
    out.status = static_cast<int>(o.at("status").to_number<std::int64_t>());
    auto& body = o.at("body").as_object();
    if (auto* p = body.if_contains("position"); p && p->is_string()) {
      auto t = PositionToken::parse(p->as_string());
      if (t) out.token = std::move(t).value();
    }
    out.body = json::serialize(body);
    out.replayed = replayed;
    return out;
  } catch (const std::exception&) {
    return Error::corruption("a stored reply does not decode");
  }
}
}  // namespace

Result<Commit> CommandPipeline::build_commit(Plan& plan, const CommandContext& ctx, const std::string& command,
                                             const std::string& fingerprint, std::int64_t now_us) {
  Commit c;
  c.expect.push_back({plan.stream, plan.expected});
  const std::string causation = !ctx.idempotency_key.empty() ? ctx.idempotency_key : ctx.request_id;
  for (auto& d : plan.decision.events) {
    // The engine's own output must match its event schema: a mismatch is a bug,
    // caught before anything reaches the log.
    if (auto errs = schemas_.validate_event(d.type, d.schema_version, d.data); !errs.empty())
      return Error::corruption(fmt::format("{} would emit an invalid {} event: {} {}", command, d.type,
                                           errs.front().pointer, errs.front().detail));
    for (const auto& field : schemas_.personal_fields(d.type, d.schema_version)) {
      auto* v = d.data.if_contains(field);
      if (!v) continue;
      if (d.subjects.empty()) return Error::corruption(fmt::format("{} has personal data but no subject", d.type));
      // Under the day's retention bucket too (engine/retention/buckets.h).
      auto sealed = vault_.seal(d.subjects.front(), *v, retention::bucket_for(plan.tenant, d.type, now_us));
      if (!sealed) return std::move(sealed).error();
      *v = std::move(sealed).value();
    }
    NewEvent e;
    e.stream = plan.stream;
    e.id = new_id(now_us);
    e.type = d.type;
    e.schema_version = d.schema_version;
    e.occurred_at_us = now_us;
    e.tenant = plan.tenant;
    e.actor = ctx.actor;
    e.subjects = std::move(d.subjects);
    e.causation_id = causation;
    e.correlation_id = ctx.correlation_id.empty() ? ctx.request_id : ctx.correlation_id;
    e.traceparent = ctx.traceparent;
    e.data = json::serialize(d.data);
    c.events.push_back(std::move(e));
  }
  c.reservations = std::move(plan.decision.reservations);
  c.counters = std::move(plan.counters);
  if (!c.events.empty() && !plan.record.stream.empty()) c.aggregates.push_back(std::move(plan.record));
  if (!ctx.idempotency_key.empty()) {
    c.idempotency_key = idempotency_scope(ctx);
    c.fingerprint = fingerprint;
  }
  c.make_response = [reply = plan.reply, status = plan.status,
                     finish = std::move(plan.finish_reply)](const Committed& done) {
    json::object body = reply;
    if (finish) finish(body, done);
    body["position"] = done.token.str();
    json::object rec;
    rec["status"] = status;
    rec["body"] = std::move(body);
    return json::serialize(rec);
  };
  return c;
}


boost::asio::awaitable<Result<CommandOutcome>> CommandPipeline::execute(std::string command, json::value body,
                                                                        CommandContext ctx) {
  auto h = handlers_.find(command);
  if (h == handlers_.end()) co_return Error::not_found(fmt::format("unknown command {}", command));
  if (read_only_)
    co_return Error::unavailable("this server runs read-only (serve --read-only): it records nothing, so it runs no "
                                 "command; send commands to a server that records");
  if (auto errs = schemas_.validate_command(command, body); !errs.empty())
    co_return Error::invalid(errs.front().detail, errs.front().pointer);
  if (authorize_)
    if (auto st = authorize_(ctx, command, body); !st) co_return std::move(st).error();

  // Fingerprint of the validated request, keyed so it reveals nothing of it.
  std::string fingerprint;
  if (!ctx.idempotency_key.empty())
    fingerprint = vault_.blind_index("idempotency", command + "\x1f" + ctx.target + "\x1f" + json::serialize(body));

  // A retry of a completed command answers from the stored reply before any
  // expensive or state-dependent step (hashing, If-Match) can get in the way.
  const std::string idem_key = idempotency_scope(ctx);
  if (!idem_key.empty()) {
    auto stored = log_.idempotent_reply(idem_key);
    if (!stored) co_return std::move(stored).error();
    if (stored->has_value()) {
      if ((*stored)->fingerprint != fingerprint)
        co_return Error::invalid("this Idempotency-Key was used with a different request");
      co_return outcome_from((*stored)->response, true);
    }
  }

  json::object& obj = body.as_object();
  if (h->second.prepare) {
    auto st = co_await run_on(cpu_, [&]() { return h->second.prepare(obj, *this); });
    if (!st) co_return std::move(st).error();
  }

  for (int attempt = 0;; ++attempt) {
    const std::int64_t now = clock_.now_us();
    auto plan = h->second.plan(obj, ctx, now, *this);
    if (!plan) co_return std::move(plan).error();
    if (ctx.expected_version && *ctx.expected_version != plan->expected)
      co_return Error::conflict(fmt::format("{} is at version {}, If-Match asked for {}", plan->stream,
                                            plan->expected, *ctx.expected_version));
    const std::string stream = plan->stream;
    if (plan->decision.events.empty() && ctx.idempotency_key.empty()) {
      // Nothing changes: reply with the current head, nothing is written.
      json::object reply = plan->reply;
      if (plan->finish_reply) plan->finish_reply(reply, Committed{});
      auto head = log_.head();
      reply["position"] = head.str();
      co_return CommandOutcome{200, json::serialize(reply), head, false};
    }
    if (meter_ && !plan->decision.events.empty())
      if (auto st = meter_(ctx, command, *plan, now); !st) co_return std::move(st).error();
    auto commit = build_commit(*plan, ctx, command, fingerprint, now);
    if (!commit) co_return std::move(commit).error();
    AggregateRecord record = commit->aggregates.empty() ? AggregateRecord{} : commit->aggregates.front();
    auto make_response = commit->make_response;
    auto on_committed = std::move(plan->on_committed);
    auto done = co_await async_append(log_, std::move(commit).value());
    if (done) {
      if (done->replayed) co_return outcome_from(done->response, true);
      if (!record.stream.empty() && !done->stream_versions.empty())
        aggregates_.remember(stream, AggregateSnapshot{done->stream_versions.back(), record.format, record.bytes});
      if (on_committed && !done->stream_versions.empty()) on_committed(done->stream_versions.back());
      co_return outcome_from(done->response.empty() ? make_response(*done) : done->response, false);
    }
    const Error& err = done.error();
    aggregates_.forget(stream);
    // A stream-version conflict (no field pointer) means someone else wrote
    // first: decide again on fresh state, unless the client pinned the version.
    if (err.code == Errc::conflict && err.pointer.empty() && !ctx.expected_version &&
        attempt + 1 < opts_.max_attempts)
      continue;
    co_return std::move(done).error();
  }
}

}  // namespace causeway
