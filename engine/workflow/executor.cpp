#include "engine/workflow/executor.h"

#include "engine/ids.h"

#include <algorithm>

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/algorithm/string/predicate.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "engine/commands/traits.h"
#include "engine/pipeline.h"
#include "engine/workflow/http_call.h"
#include "events/codec.h"

namespace causeway::workflow {
namespace json = boost::json;
namespace asio = boost::asio;

namespace {

std::string flight_key(const Effect& fx) {
  return fx.node + "#" + std::to_string(fx.visit) + "#" + std::to_string(fx.attempt);
}

json::object outcome_json(const Outcome& o) {
  json::object x;
  x["node"] = o.node;
  x["visit"] = o.visit;
  x["attempt"] = o.attempt;
  x["ok"] = o.ok;
  if (o.ok) x["output"] = o.output;
  if (!o.ok) {
    x["error_class"] = o.error_class;
    x["error"] = o.error;
  }
  return x;
}

CommandContext system_context(const std::string& run_id, const std::string& tenant) {
  CommandContext ctx;
  ctx.actor = Actor{"system:workflows", {}};
  ctx.target = run_id;
  ctx.tenant = tenant;
  ctx.request_id = "workflows-" + run_id;
  return ctx;
}

// The outcome of `fx`'s attempt: succeeded with `output`, or failed.
Outcome succeeded(const Effect& fx, json::object output) {
  Outcome o;
  o.node = fx.node;
  o.visit = fx.visit;
  o.attempt = fx.attempt;
  o.ok = true;
  o.output = std::move(output);
  return o;
}

Outcome failed(const Effect& fx, std::string cls, std::string message) {
  Outcome o;
  o.node = fx.node;
  o.visit = fx.visit;
  o.attempt = fx.attempt;
  o.error_class = std::move(cls);
  o.error = std::move(message);
  return o;
}

}  // namespace

Executor::Executor(CommandPipeline& pipe, Catalog& catalog, asio::any_io_executor io, const Clock& clock,
                   Options opts)
    : pipe_(pipe),
      catalog_(catalog),
      io_(asio::make_strand(io)),
      clock_(clock),
      opts_(opts),
      timer_(std::make_unique<asio::steady_timer>(io_)) {}

Executor::~Executor() { stop(); }

namespace {
std::string secret_of_generation(const KeyVault& vault, const std::string& org_id, std::uint32_t generation) {
  // Generation 0 is the organization's first secret, as it always was.
  return vault.blind_index("webhook_secret", generation == 0 ? org_id : org_id + "#" + std::to_string(generation));
}
}  // namespace

Result<Executor::WebhookSecrets> Executor::webhook_secrets(const std::string& org_id) const {
  auto org = pipe_.aggregates().load<OrganizationAggregate>(org_id);
  if (!org) return std::move(org).error();
  WebhookSecrets out;
  out.generation = org->state.webhook_generation;
  out.current = secret_of_generation(pipe_.vault(), org_id, out.generation);
  if (out.generation > 0 && clock_.now_us() < org->state.previous_secret_until_us) {
    out.previous = secret_of_generation(pipe_.vault(), org_id, out.generation - 1);
    out.previous_until_us = org->state.previous_secret_until_us;
  }
  return out;
}

std::size_t Executor::active() const {
  std::lock_guard lock(mu_);
  return slots_.size();
}

void Executor::start() {
  asio::co_spawn(io_, ticker(), asio::detached);
}

void Executor::stop() {
  if (stopped_.exchange(true)) return;
  asio::post(io_, [t = timer_.get()] { t->cancel(); });
}

void Executor::kick(const std::string& run_id) {
  {
    std::lock_guard lock(mu_);
    Slot& s = slots_[run_id];
    if (s.busy) {
      s.again = true;
      return;
    }
    s.busy = true;
  }
  asio::co_spawn(io_, drive(run_id), asio::detached);
}

void Executor::tick() {
  const std::int64_t now = clock_.now_us();
  std::vector<std::string> due;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : slots_)
      if (s.due_us && s.due_us <= now) due.push_back(id);
  }
  for (const auto& id : due) kick(id);
  if (tick_hook_) tick_hook_();
  if (now - last_stuck_check_us_ >= opts_.stuck_check_interval_us) {
    last_stuck_check_us_ = now;
    check_stuck();
  }
}

asio::awaitable<void> Executor::ticker() {
  while (!stopped_) {
    std::int64_t wait_us = opts_.max_sleep_us;
    {
      const std::int64_t now = clock_.now_us();
      std::lock_guard lock(mu_);
      for (const auto& [id, s] : slots_)
        if (s.due_us) wait_us = std::min(wait_us, std::max<std::int64_t>(0, s.due_us - now));
    }
    timer_->expires_after(std::chrono::microseconds(wait_us));
    boost::system::error_code ec;
    co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) break;
    tick();
  }
}

asio::awaitable<void> Executor::drive(std::string run_id) {
  for (;;) {
    std::vector<Outcome> outcomes;
    std::vector<Arrival> arrivals;
    bool due = false;
    {
      std::lock_guard lock(mu_);
      Slot& s = slots_[run_id];
      outcomes.swap(s.outcomes);
      arrivals.swap(s.arrivals);
      s.again = false;
      due = s.due_us && s.due_us <= clock_.now_us();
    }
    if (!outcomes.empty() || !arrivals.empty() || due) {
      json::array list;
      for (const auto& o : outcomes) list.push_back(outcome_json(o));
      json::array arrived;
      for (const auto& a : arrivals)
        arrived.push_back(json::object{{"node", a.node},
                                       {"visit", a.visit},
                                       {"event_type", a.event_type},
                                       {"position", static_cast<std::int64_t>(a.position)},
                                       {"payload", a.payload}});
      json::object body;
      body["outcomes"] = std::move(list);
      body["arrivals"] = std::move(arrived);
      json::value value(std::move(body));
      CommandContext ctx = system_context(run_id, {});
      auto r = co_await pipe_.execute("run.advance", std::move(value), std::move(ctx));
      if (!r) {
        // Not decided: keep the outcomes and try again at the next tick —
        // unless they can never be decided (an invalid feed is a bug, not a
        // transient failure; the run's timers still drive it).
        advance_failures_++;
        std::lock_guard lock(mu_);
        Slot& s = slots_[run_id];
        if (r.error().code != Errc::invalid) {
          s.outcomes.insert(s.outcomes.begin(), outcomes.begin(), outcomes.end());
          s.arrivals.insert(s.arrivals.begin(), arrivals.begin(), arrivals.end());
        }
        s.due_us = clock_.now_us() + opts_.max_sleep_us;
        s.busy = false;
        co_return;
      }
    }
    std::vector<std::pair<std::string, Effect>> to_send;
    const bool alive = sync(run_id, to_send);
    for (auto& [org, fx] : to_send) asio::co_spawn(io_, perform(run_id, org, std::move(fx)), asio::detached);
    {
      std::lock_guard lock(mu_);
      auto it = slots_.find(run_id);
      if (it == slots_.end()) co_return;
      if (alive || !it->second.in_flight.empty()) {
        if (it->second.again) continue;
        it->second.busy = false;
        co_return;
      }
      set_waits(it->second, run_id, {});
      slots_.erase(it);
    }
    if (ended_hook_) ended_hook_(run_id);
    co_return;
  }
}

bool Executor::sync(const std::string& run_id, std::vector<std::pair<std::string, Effect>>& to_send) {
  auto loaded = pipe_.aggregates().load<RunAggregate>(run::stream_of(run_id));
  if (!loaded || loaded->state.status != run::Status::running) return false;
  const run::State& s = loaded->state;
  // The definition and the context are needed only to render awaited attempts.
  std::vector<Effect> effects;
  const bool awaiting = std::any_of(s.pending.begin(), s.pending.end(),
                                    [](const auto& kv) { return kv.second.phase == run::Phase::started; });
  if (awaiting) {
    auto def = catalog_.definition(s.workflow_id, s.hash);
    if (!def) return false;
    auto ctx = catalog_.context(run_id, loaded->version, **def);
    if (!ctx) return false;
    effects = pending_effects(**def, s, *ctx);
  }
  const std::int64_t due = next_due(s);
  std::vector<std::string> waits;
  for (const auto& [key, p] : s.pending)
    if (p.phase == run::Phase::event_wait) waits.push_back(wait_key(s.org_id, p.event_type, p.correlation));
  std::lock_guard lock(mu_);
  Slot& slot = slots_[run_id];
  slot.due_us = due;
  set_waits(slot, run_id, std::move(waits));
  for (auto& fx : effects)
    if (slot.in_flight.insert(flight_key(fx)).second) to_send.emplace_back(s.org_id, std::move(fx));
  if (due && due - clock_.now_us() < opts_.max_sleep_us) asio::post(io_, [t = timer_.get()] { t->cancel(); });
  return true;
}

std::string Executor::wait_key(const std::string& org, const std::string& type, const std::string& correlation) {
  return org + '\n' + type + '\n' + correlation;
}

void Executor::set_waits(Slot& slot, const std::string& run_id, std::vector<std::string> keys) {
  for (const auto& k : slot.waits)
    if (auto it = waiting_.find(k); it != waiting_.end()) {
      it->second.erase(run_id);
      if (it->second.empty()) waiting_.erase(it);
    }
  for (const auto& k : keys) waiting_[k].insert(run_id);
  slot.waits = std::move(keys);
}

std::size_t Executor::waiting_count(const std::string& org_id, const std::string& event_type,
                                   const std::string& correlation) const {
  if (correlation.empty()) return 0;
  std::lock_guard lock(mu_);
  auto it = waiting_.find(wait_key(org_id, event_type, correlation));
  return it == waiting_.end() ? 0 : it->second.size();
}

void Executor::deliver(const std::string& org_id, const std::string& event_type, const std::string& correlation,
                       std::uint64_t position, std::int64_t recorded_at_us, const json::value& payload) {
  std::vector<std::string> runs;
  {
    std::lock_guard lock(mu_);
    auto it = waiting_.find(wait_key(org_id, event_type, correlation));
    if (it == waiting_.end()) return;
    runs.assign(it->second.begin(), it->second.end());
  }
  for (const auto& run_id : runs) {
    auto loaded = pipe_.aggregates().load<RunAggregate>(run::stream_of(run_id));
    if (!loaded) continue;
    auto nodes = waiting_for(loaded->state, event_type, correlation, recorded_at_us);
    if (nodes.empty()) continue;
    {
      std::lock_guard lock(mu_);
      auto slot = slots_.find(run_id);
      if (slot == slots_.end()) continue;
      for (const auto& [node, visit] : nodes)
        slot->second.arrivals.push_back(Arrival{node, visit, event_type, position, payload});
    }
    kick(run_id);
  }
}

asio::awaitable<void> Executor::perform(std::string run_id, std::string org_id, Effect fx) {
  Outcome o;
  if (fx.kind == "http")
    o = co_await http_effect(org_id, fx);
  else
    o = co_await start_child(org_id, fx);
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(run_id);
    if (it == slots_.end()) co_return;
    it->second.in_flight.erase(flight_key(fx));
    it->second.outcomes.push_back(std::move(o));
  }
  kick(run_id);
}

asio::awaitable<Outcome> Executor::http_effect(const std::string& org_id, const Effect& fx) {
  HttpRequest req;
  req.method = fx.method;
  req.url = fx.url;
  req.headers = fx.headers;
  req.body = fx.body;
  req.timeout = std::chrono::milliseconds(fx.timeout_ms);
  req.egress = opts_.egress;
  bool typed = false;
  for (const auto& [name, value] : req.headers)
    if (boost::algorithm::iequals(name, "content-type")) typed = true;
  if (!typed && !req.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.headers.emplace_back("Idempotency-Key", fx.idempotency_key);
  const std::int64_t now_s = clock_.now_us() / 1'000'000;
  auto secrets = webhook_secrets(org_id);
  if (!secrets) co_return failed(fx, "connection", "the webhook secret could not be read: " + secrets.error().message);
  std::vector<std::string> signing{secrets->current};
  if (!secrets->previous.empty()) signing.push_back(secrets->previous);
  req.headers.emplace_back("Causeway-Signature", webhook_signature(signing, now_s, req.body));
  auto result = co_await http_call(std::move(req));
  if (auto* f = std::get_if<HttpFailure>(&result)) co_return failed(fx, f->error_class, f->message);
  auto& res = std::get<HttpResponse>(result);
  if (res.status < 200 || res.status >= 300)
    co_return failed(fx, res.status >= 500 ? "http_5xx" : "http_4xx",
                     "the receiver answered " + std::to_string(res.status));
  json::object output;
  output["status"] = res.status;
  boost::system::error_code ec;
  auto parsed = json::parse(res.body, ec);
  output["body"] = ec ? json::value(res.body) : std::move(parsed);
  json::object headers;
  for (const auto& [name, value] : res.headers) headers[boost::algorithm::to_lower_copy(name)] = value;
  output["headers"] = std::move(headers);
  co_return succeeded(fx, std::move(output));
}

asio::awaitable<Outcome> Executor::start_child(const std::string& org_id, const Effect& fx) {
  const std::string child = derived_id_near("run", fx.idempotency_key, pipe_.log(), org_id);
  json::object trigger;
  trigger["kind"] = "workflow";
  trigger["parent_run"] = fx.idempotency_key.substr(0, fx.idempotency_key.find('.'));
  json::object body;
  body["workflow_id"] = fx.workflow_id;
  body["input"] = fx.input;
  body["trigger"] = std::move(trigger);
  json::value value(std::move(body));
  CommandContext ctx = system_context(child, org_id);
  auto r = co_await pipe_.execute("run.start", std::move(value), std::move(ctx));
  if (!r && !(r.error().code == Errc::conflict && r.error().message == "the run already exists"))
    co_return failed(fx, "start_failed", r.error().message);
  kick(child);
  co_return succeeded(fx, json::object{{"run_id", child}});
}

void Executor::check_stuck() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : slots_) ids.push_back(id);
  }
  const std::int64_t now = clock_.now_us();
  for (const auto& id : ids) {
    auto loaded = pipe_.aggregates().load<RunAggregate>(run::stream_of(id));
    if (!loaded) continue;
    const run::State& s = loaded->state;
    if (s.status != run::Status::running || s.stuck) continue;
    bool waiting = false;
    for (const auto& [key, p] : s.pending)
      waiting = waiting || p.phase == run::Phase::retry_wait || p.phase == run::Phase::delay_wait ||
                p.phase == run::Phase::event_wait || p.phase == run::Phase::joining;
    if (waiting) continue;
    auto def = catalog_.definition(s.workflow_id, s.hash);
    if (!def || now - s.last_progress_at <= (*def)->stuck_after_ms * 1000) continue;
    stuck_marked_++;
    asio::co_spawn(
        io_,
        [this, id]() -> asio::awaitable<void> {
          json::value body = json::object();
          CommandContext ctx = system_context(id, {});
          auto r = co_await pipe_.execute("run.mark_stuck", std::move(body), std::move(ctx));
          if (!r && r.error().code != Errc::conflict && opts_.on_mark_stuck_failure)
            opts_.on_mark_stuck_failure(id, r.error());
        },
        asio::detached);
  }
}

}  // namespace causeway::workflow
