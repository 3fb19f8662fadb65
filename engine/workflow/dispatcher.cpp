#include "engine/workflow/dispatcher.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <future>

#include "engine/ids.h"
#include "engine/pipeline.h"
#include "engine/workflow/cron.h"
#include "events/codec.h"
#include "events/follower_checkpoint.h"
#include "events/json_fields.h"

namespace causeway::workflow {
namespace json = boost::json;
namespace asio = boost::asio;

namespace {

asio::awaitable<void> execute_into(CommandPipeline& pipe, std::string name, json::value body, CommandContext ctx,
                                   std::optional<Result<CommandOutcome>>& out, std::promise<void>& done) {
  auto r = co_await pipe.execute(std::move(name), std::move(body), std::move(ctx));
  out.emplace(std::move(r));
  done.set_value();
}

// Runs a command on the I/O executor and waits for it (subscription threads).
Result<CommandOutcome> execute_sync(CommandPipeline& pipe, asio::any_io_executor io, std::string name,
                                    json::value body, CommandContext ctx) {
  std::optional<Result<CommandOutcome>> out;
  std::promise<void> done;
  auto ready = done.get_future();
  asio::co_spawn(io, execute_into(pipe, std::move(name), std::move(body), std::move(ctx), out, done), asio::detached);
  ready.wait();
  return std::move(*out);
}

// What a trigger or a wait sees of an event: its type, payload and correlation.
struct Seen {
  std::string type, correlation;
  const json::value* payload = nullptr;
};

Seen seen_of(const Event& e, const json::object& data) {
  Seen s;
  if (e.type == "event.ingested" || e.type == "run.event_emitted") {
    s.type = string_field(data, "event_type");
    s.payload = data.if_contains("payload");
    s.correlation = string_field(data, "correlation");
    if (s.correlation.empty() && s.payload && s.payload->is_object())
      s.correlation = string_field(s.payload->as_object(), "correlation");
  } else {
    s.type = e.type;
  }
  return s;
}

// A triggered run's id: derived from `seed`, on its organization's partition.
std::string derived_run_id(const EventLog& log, const std::string& seed, const std::string& org_id) {
  return derived_id_near("run", seed, log, org_id);
}

}  // namespace

Dispatcher::Dispatcher(CommandPipeline& pipe, Catalog& catalog, Executor& executor, asio::any_io_executor io,
                       std::string checkpoint_path)
    : pipe_(pipe), catalog_(catalog), executor_(executor), io_(std::move(io)),
      checkpoint_path_(std::move(checkpoint_path)) {}

Dispatcher::~Dispatcher() { stop(); }

Status Dispatcher::open() {
  // The checkpoint, else the head: history before the first start triggers nothing.
  const std::string text = read_follower_checkpoint(checkpoint_path_);
  from_ = resume_point_of(pipe_.log(), text).offsets;
  // The start-up index saved beside it, unless it covers more than the log holds (another log).
  const auto head = pipe_.log().head();
  boost::system::error_code ec;
  auto doc = json::parse(text, ec);
  const auto* index = !ec && doc.is_object() ? doc.as_object().if_contains("index") : nullptr;
  auto restored = index ? StartupIndex::from_json(*index, pipe_.log().partitions()) : std::nullopt;
  for (std::size_t p = 0; restored && p < restored->next.size(); ++p)
    if (restored->next[p] > (p < head.offsets.size() ? head.offsets[p] : 0) + 1) restored.reset();
  if (restored) {
    startup_ = std::move(*restored);
    restored_ = true;
  } else {
    startup_.next.assign(pipe_.log().partitions(), 1);
  }
  return ok_status();
}

StartupIndex Dispatcher::startup_index() const {
  std::lock_guard lock(mu_);
  return startup_;
}

void Dispatcher::index_ready() {
  std::lock_guard lock(mu_);
  index_ready_ = true;
}

void Dispatcher::note_read(std::uint32_t partition, std::uint64_t next_position) {
  std::lock_guard lock(mu_);
  startup_.advance(partition, next_position);
}

void Dispatcher::note(std::string_view type, const std::string& stream, const std::string& tenant, LogAddress at) {
  std::lock_guard lock(mu_);
  startup_.observe(type, stream, tenant, at);
}

std::uint64_t Dispatcher::start_of(std::uint32_t partition) const { return from_.at(partition); }

void Dispatcher::learn(const Event& e) {
  boost::system::error_code ec;
  auto data = json::parse(e.data, ec);
  if (!ec && data.is_object()) index(e, data.as_object());
}

void Dispatcher::start() {
  follower_ = std::make_unique<LogFollower>(pipe_.log(), PositionToken{from_},
                                            [this](std::uint32_t p, const std::vector<Event>& batch) {
                                              return handle(p, batch);
                                            });
  save_checkpoint();  // the index recovery brought to the head: the next start reads it instead of the log
  follower_->start();
}

void Dispatcher::stop() {
  if (!follower_) return;
  follower_->stop();
  save_checkpoint();
  follower_.reset();
}

bool Dispatcher::triggered_by(const std::string& type) {
  std::lock_guard lock(mu_);
  for (const auto& [id, t] : triggers_) {
    const Node& n = t.def->nodes[static_cast<std::size_t>(t.def->trigger)];
    if (n.trigger.kind == "event" && n.trigger.event_type == type) return true;
  }
  return false;
}

void Dispatcher::index(const Event& e, const json::object& data) {
  const std::string id = string_field(data, "workflow_id");
  std::lock_guard lock(mu_);
  if (e.type == "workflow.archived") {
    triggers_.erase(id);
    return;
  }
  auto* def_doc = data.if_contains("definition");
  if (!def_doc) return;
  auto def = catalog_.compile_cached(*def_doc, string_field(data, "hash"));
  if (!def || (*def)->trigger < 0) return;
  const Node& t = (*def)->nodes[static_cast<std::size_t>((*def)->trigger)];
  if (t.trigger.kind != "event" && t.trigger.kind != "schedule") {
    triggers_.erase(id);
    return;
  }
  Trigger tr;
  tr.workflow_id = id;
  tr.org_id = string_field(data, "org_id");
  tr.hash = string_field(data, "hash");
  auto* v = data.if_contains("version");
  tr.version = v && v->is_int64() ? v->as_int64() : 0;
  tr.published_at = e.occurred_at_us;
  tr.def = *def;
  triggers_[id] = std::move(tr);
}

Status Dispatcher::handle(std::uint32_t partition, const std::vector<Event>& batch) {
  if (!batch.empty()) {
    std::lock_guard lock(mu_);
    for (const auto& e : batch)
      if (StartupIndex::wants(e.type)) startup_.observe(e.type, e.stream, e.tenant, {partition, e.position});
    startup_.advance(partition, batch.back().position + 1);
  }
  for (const auto& e : batch) {
    if (e.tenant.empty()) continue;
    // Most events concern no workflow: decide that from the type alone, before parsing.
    const bool indexed = e.type == "workflow.published" || e.type == "workflow.archived";
    const bool carrier = e.type == "event.ingested" || e.type == "run.event_emitted";
    if (!indexed && !carrier && !triggered_by(e.type)) continue;
    boost::system::error_code ec;
    auto parsed = json::parse(e.data, ec);
    if (ec || !parsed.is_object()) continue;
    if (e.type == "workflow.published" || e.type == "workflow.archived") {
      index(e, parsed.as_object());
      continue;
    }
    dispatch(e, parsed.as_object());
  }
  if (!batch.empty()) {
    std::lock_guard lock(mu_);
    from_[partition] = batch.back().position + 1;
  }
  // At most once a second: the checkpoint only saves re-reading.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_save_.load() >= std::chrono::seconds(1)) {
    last_save_ = now;
    save_checkpoint();
  }
  return ok_status();
}

bool Dispatcher::may_trigger(const std::string& org_id, const std::string& type, std::int64_t occurred_at_us) {
  std::lock_guard lock(mu_);
  for (const auto& [id, t] : triggers_) {
    const Node& n = t.def->nodes[static_cast<std::size_t>(t.def->trigger)];
    if (t.org_id == org_id && n.trigger.kind == "event" && n.trigger.event_type == type &&
        occurred_at_us >= t.published_at)
      return true;
  }
  return false;
}

std::vector<Dispatcher::TriggerOutcome> Dispatcher::triggered(const std::string& org_id,
                                                              const std::string& event_type,
                                                              const json::object& payload, std::uint32_t partition,
                                                              std::uint64_t position, std::int64_t occurred_at_us) {
  std::vector<Trigger> matching;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, t] : triggers_) {
      const Node& n = t.def->nodes[static_cast<std::size_t>(t.def->trigger)];
      if (t.org_id == org_id && n.trigger.kind == "event" && n.trigger.event_type == event_type &&
          occurred_at_us >= t.published_at)
        matching.push_back(t);
    }
  }
  std::vector<TriggerOutcome> out;
  for (const auto& t : matching) {
    const Node& n = t.def->nodes[static_cast<std::size_t>(t.def->trigger)];
    if (n.trigger.filter) {
      json::object ctx{{"input", payload}, {"vars", json::object()}, {"steps", json::object()}};
      auto pass = evaluate(*n.trigger.filter, ctx);
      if (!pass || !pass->is_bool() || !pass->as_bool()) continue;
    }
    TriggerOutcome o;
    o.workflow_id = t.workflow_id;
    o.version = t.version;
    o.run_id = derived_run_id(pipe_.log(), t.workflow_id + "@" + std::to_string(partition) + ":" + std::to_string(position),
                              t.org_id);
    json::object given;  // the payload's fields the workflow declares; others are not its input
    for (const auto& [name, type] : t.def->input)
      if (auto* v = payload.if_contains(name)) given[name] = *v;
    auto input = check_input(*t.def, given);
    if (input) {
      o.input = std::move(input).value();
    } else {
      o.error = input.error().message;
      o.pointer = input.error().pointer;
    }
    out.push_back(std::move(o));
  }
  return out;
}

json::object Dispatcher::report(const std::string& org_id, const std::string& event_type,
                               const json::object& payload, const std::string& correlation, std::uint32_t partition,
                               std::uint64_t position, std::int64_t occurred_at_us) {
  json::array runs, failures;
  for (const auto& o : triggered(org_id, event_type, payload, partition, position, occurred_at_us)) {
    json::object entry{{"workflow_id", o.workflow_id}, {"version", o.version}, {"run_id", o.run_id}};
    if (o.error.empty()) {
      runs.push_back(std::move(entry));
      continue;
    }
    entry["error_class"] = "invalid_input";
    entry["error"] = o.error;
    entry["pointer"] = o.pointer;
    failures.push_back(std::move(entry));
  }
  return json::object{{"runs", std::move(runs)},
                      {"failures", std::move(failures)},
                      {"waiting_runs", static_cast<std::int64_t>(executor_.waiting_count(org_id, event_type,
                                                                                           correlation))}};
}

void Dispatcher::dispatch(const Event& e, const json::object& raw) {
  Seen seen = seen_of(e, raw);
  if (!may_trigger(e.tenant, seen.type, e.occurred_at_us) && seen.correlation.empty()) return;
  // Open the sealed fields only now: most events concern no workflow.
  json::value opened(raw);
  if (auto st = pipe_.vault().open_all(opened); !st) return;
  const json::object& data = opened.as_object();
  seen = seen_of(e, data);
  json::object payload;
  if (seen.payload && seen.payload->is_object())
    payload = seen.payload->as_object();
  else if (!seen.payload)
    payload = data;
  const std::string subject =
      !e.subjects.empty() && e.subjects.front().rfind("user-", 0) == 0 ? e.subjects.front() : std::string();
  for (auto& o : triggered(e.tenant, seen.type, payload, e.partition, e.position, e.occurred_at_us)) {
    json::object trigger{{"kind", "event"},
                         {"event_type", seen.type},
                         {"event_partition", static_cast<std::int64_t>(e.partition)},
                         {"event_position", static_cast<std::int64_t>(e.position)}};
    if (!o.error.empty()) {
      record_failure(e.tenant, o, std::move(trigger));
      continue;
    }
    start_run(e.tenant, o.workflow_id, o.version, o.run_id, std::move(o.input), std::move(trigger), subject, true);
  }
  if (!seen.correlation.empty())
    executor_.deliver(e.tenant, seen.type, seen.correlation, e.position, e.occurred_at_us, json::value(payload));
}

void Dispatcher::record_failure(const std::string& org_id, const TriggerOutcome& o, json::object trigger) {
  json::object body{{"workflow_id", o.workflow_id}, {"version", o.version}, {"trigger", std::move(trigger)},
                    {"error", o.error},             {"pointer", o.pointer}};
  CommandContext ctx;
  ctx.actor = Actor{"system:triggers", {}};
  ctx.tenant = org_id;
  ctx.target = o.run_id;
  ctx.request_id = "trigger-" + o.run_id;
  auto r = execute_sync(pipe_, io_, "run.record_trigger_failure", json::value(std::move(body)), std::move(ctx));
  if (!r && r.error().code == Errc::conflict && r.error().message == "the run already exists") return;
  failed_++;
  if (failure_hook_) failure_hook_(org_id, o);
}

void Dispatcher::start_run(const std::string& org_id, const std::string& workflow_id, std::int64_t version,
                           const std::string& run_id, json::object input, json::object trigger,
                           const std::string& subject, bool wait) {
  json::object body{{"workflow_id", workflow_id}, {"version", version}, {"input", std::move(input)},
                    {"trigger", std::move(trigger)}};
  if (!subject.empty()) body["subject"] = subject;
  CommandContext ctx;
  ctx.actor = Actor{"system:triggers", {}};
  ctx.tenant = org_id;
  ctx.target = run_id;
  ctx.request_id = "trigger-" + run_id;
  if (!wait) {
    // From an I/O thread (the timer loop): never block it.
    asio::co_spawn(io_, start_async(json::value(std::move(body)), std::move(ctx)), asio::detached);
    return;
  }
  auto r = execute_sync(pipe_, io_, "run.start", json::value(std::move(body)), std::move(ctx));
  settle_start(r, run_id);
}

asio::awaitable<void> Dispatcher::start_async(json::value body, CommandContext ctx) {
  const std::string run_id = ctx.target;
  auto r = co_await pipe_.execute("run.start", std::move(body), std::move(ctx));
  settle_start(r, run_id);
}

void Dispatcher::settle_start(const Result<CommandOutcome>& r, const std::string& run_id) {
  if (r) {
    started_++;
  } else if (!(r.error().code == Errc::conflict && r.error().message == "the run already exists")) {
    failed_++;  // e.g. the event's fields do not match the declared input types
    return;
  }
  executor_.kick(run_id);
}

void Dispatcher::tick() {
  const std::int64_t now = pipe_.clock().now_us();
  std::vector<std::pair<Trigger, std::int64_t>> due;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, t] : triggers_) {
      const Node& n = t.def->nodes[static_cast<std::size_t>(t.def->trigger)];
      if (n.trigger.kind != "schedule") continue;
      auto cron = parse_cron(n.trigger.cron);
      if (!cron) continue;
      if (t.next_fire_us == 0) {
        // The latest fire time missed since publication (bounded walk), else the next one.
        std::int64_t at = cron->next_after(t.published_at), missed = 0;
        for (int i = 0; at <= now && i < 1'000'000; ++i) {
          missed = at;
          at = cron->next_after(at);
        }
        if (missed) due.emplace_back(t, missed);
        t.next_fire_us = cron->next_after(now);
      } else if (t.next_fire_us <= now) {
        due.emplace_back(t, t.next_fire_us);
        t.next_fire_us = cron->next_after(now);
      }
    }
  }
  for (const auto& [t, at] : due)
    start_run(t.org_id, t.workflow_id, t.version, derived_run_id(pipe_.log(), t.workflow_id + "@cron:" + std::to_string(at), t.org_id),
              json::object(), json::object{{"kind", "schedule"}, {"schedule_at", rfc3339_us(at)}}, {}, false);
}

void Dispatcher::save_checkpoint() {
  PositionToken next;
  json::object with;
  {
    std::lock_guard lock(mu_);
    next.offsets = from_;
    if (index_ready_) with["index"] = startup_.to_json();
  }
  // A checkpoint not saved only means more to re-read after a restart (runs are idempotent by id).
  (void)save_follower_checkpoint(checkpoint_path_, next, std::move(with));
}

}  // namespace causeway::workflow
