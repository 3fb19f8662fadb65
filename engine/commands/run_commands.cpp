// The run commands (engine/aggregates/run.h, engine/workflow/interpreter.h);
// the target is the run id ("run-<32 hex>"):
//   run.start       {workflow_id, version?, input?, subject?, trigger?}
//   run.advance     {outcomes?, arrivals?}   the executor: results, arrived events, the time
//   run.cancel      {reason}
//   run.restart     {}                       a failed run, from its failed step
//   run.mark_stuck  {}                       the executor's stuck-run check
//   run.record_trigger_failure {workflow_id, version, trigger, error, pointer}
//                                            the dispatcher: an event that did not fit the input
// A caller with a tenant only reaches its own organization's runs and
// workflows. Every reply carries the run's status and its next timer.
#include <fmt/format.h>

#include "engine/commands/traits.h"
#include "engine/pipeline.h"
#include "engine/workflow/catalog.h"
#include "engine/workflow/interpreter.h"
#include "events/codec.h"

namespace causeway {
namespace json = boost::json;
using workflow::Catalog;

namespace {

std::int32_t int32_of(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_int64() ? static_cast<std::int32_t>(v->as_int64()) : 0;
}

void reply_with(Plan& plan, const run::State& s, std::int64_t next_due_us) {
  plan.reply["run_id"] = s.run_id;
  plan.reply["workflow_id"] = s.workflow_id;
  plan.reply["version"] = s.version;
  plan.reply["hash"] = s.hash;
  plan.reply["status"] = run::status_name(s.status);
  plan.reply["stuck"] = s.stuck;
  if (next_due_us) plan.reply["next_due_at"] = rfc3339_us(next_due_us);
}

Plan plan_of(const std::string& run_id, std::uint64_t expected, run::State& state, workflow::Step step) {
  Plan plan;
  plan.stream = run::stream_of(run_id);
  plan.expected = expected;
  plan.tenant = state.org_id;
  plan.status = 200;
  Decision d;
  d.events = std::move(step.events);
  // The interpreter already folded its events into `state`.
  plan.decision = std::move(d);
  plan.record = {plan.stream, run::kStateFormat, AggregateStore::encode(state)};
  reply_with(plan, state, step.next_due_us);
  return plan;
}

// Once the plan's events are durable, the context they folded into is the
// run's context at the new version: the next decision needs no log read.
void remember_context(Plan& plan, Catalog& catalog, const std::string& run_id, run::Context context) {
  if (plan.decision.events.empty()) return;
  plan.on_committed = [&catalog, run_id, context = std::move(context)](std::uint64_t version) mutable {
    catalog.remember(run_id, version, std::move(context));
  };
}

CommandHandler start_handler(Catalog& catalog) {
  CommandHandler h;
  h.plan = [&catalog](const json::object& body, const CommandContext& ctx, std::int64_t now,
                      CommandPipeline& pipe) -> Result<Plan> {
    const std::string workflow_id = json_string(body, "workflow_id");
    auto wf = pipe.aggregates().load<WorkflowAggregate>(workflow_agg::stream_of(workflow_id));
    if (!wf) return std::move(wf).error();
    const auto& w = wf->state;
    if (!w.exists || (!ctx.tenant.empty() && w.org_id != ctx.tenant))
      return Error::invalid("no such workflow", "/workflow_id");
    if (w.archived) return Error::conflict("the workflow is archived: it starts no new run", "/workflow_id");
    const workflow_agg::Version* v = w.latest();
    if (auto* n = body.if_contains("version")) v = w.by_number(n->as_int64());
    if (!v)
      return body.contains("version") ? Error::invalid("the workflow has no such version", "/version")
                                      : Error::conflict("the workflow has no published version yet", "/workflow_id");
    auto def = catalog.definition(workflow_id, v->hash);
    if (!def) return std::move(def).error();
    json::object given;
    if (auto* in = body.if_contains("input")) given = in->as_object();
    auto input = workflow::check_input(**def, given);
    if (!input) return std::move(input).error();
    auto loaded = pipe.aggregates().load<RunAggregate>(run::stream_of(ctx.target));
    if (!loaded) return std::move(loaded).error();
    if (loaded->version != 0) return Error::conflict("the run already exists");
    if (body.contains("subject"))
      if (auto st = require_existing<UserAggregate>(pipe, user::stream_of(json_string(body, "subject")),
                                                    "no user has this id", "/subject");
          !st)
        return std::move(st).error();

    workflow::StartInfo info;
    info.run_id = ctx.target;
    info.org_id = w.org_id;
    info.workflow_id = workflow_id;
    info.hash = v->hash;
    info.version = v->number;
    // The key the run's personal data is sealed under: the user it is about,
    // else its organization's (one key per organization, created once — a
    // key per run would cost a synced key write per run).
    info.subject = body.contains("subject") ? json_string(body, "subject") : w.org_id;
    info.input = std::move(input).value();
    if (auto* t = body.if_contains("trigger"))
      info.trigger = t->as_object();
    else
      info.trigger["kind"] = "manual";
    run::State state;
    run::Context context;
    auto step = workflow::start(**def, state, context, info, now);
    auto plan = plan_of(ctx.target, 0, state, std::move(step));
    plan.status = 201;
    remember_context(plan, catalog, ctx.target, std::move(context));
    return plan;
  };
  return h;
}

// run.record_trigger_failure: the dispatcher found that an event triggering a
// workflow does not fit its declared input. The derived run is recorded as
// failed before its first step (run.trigger_failed), once: recording it again
// (after a restart re-reads the event) is a conflict, as for run.start.
CommandHandler trigger_failure_handler() {
  CommandHandler h;
  h.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
              CommandPipeline& pipe) -> Result<Plan> {
    const std::string workflow_id = json_string(body, "workflow_id");
    auto wf = pipe.aggregates().load<WorkflowAggregate>(workflow_agg::stream_of(workflow_id));
    if (!wf) return std::move(wf).error();
    const auto& w = wf->state;
    if (!w.exists || w.org_id != ctx.tenant) return Error::invalid("no such workflow", "/workflow_id");
    const workflow_agg::Version* v = w.by_number(body.at("version").as_int64());
    if (!v) return Error::invalid("the workflow has no such version", "/version");
    auto loaded = pipe.aggregates().load<RunAggregate>(run::stream_of(ctx.target));
    if (!loaded) return std::move(loaded).error();
    if (loaded->version != 0) return Error::conflict("the run already exists");
    DraftEvent e;
    e.type = "run.trigger_failed";
    e.data = {{"run_id", ctx.target},          {"org_id", w.org_id},           {"workflow_id", workflow_id},
              {"version", v->number},          {"hash", v->hash},              {"trigger", body.at("trigger")},
              {"error_class", "invalid_input"}, {"error", body.at("error")}, {"pointer", body.at("pointer")}};
    e.subjects = {w.org_id};
    run::State state;
    run::apply(state, e.type, e.data, now);
    workflow::Step step;
    step.events.push_back(std::move(e));
    auto plan = plan_of(ctx.target, 0, state, std::move(step));
    plan.status = 201;
    return plan;
  };
  return h;
}

// A command on an existing run of the caller's tenant: `decide` gets the
// definition, the state (to fold into) and the context.
template <class Decide>
CommandHandler on_run(Catalog& catalog, Decide decide) {
  CommandHandler h;
  h.plan = [&catalog, decide](const json::object& body, const CommandContext& ctx, std::int64_t now,
                              CommandPipeline& pipe) -> Result<Plan> {
    auto loaded = pipe.aggregates().load<RunAggregate>(run::stream_of(ctx.target));
    if (!loaded) return std::move(loaded).error();
    run::State state = loaded->state;
    if (state.status == run::Status::none || (!ctx.tenant.empty() && state.org_id != ctx.tenant))
      return Error::not_found("no such run");
    auto def = catalog.definition(state.workflow_id, state.hash);
    if (!def) return std::move(def).error();
    auto context = catalog.context(ctx.target, loaded->version, **def);
    if (!context) return std::move(context).error();
    auto step = decide(**def, state, *context, body, now);
    if (!step) return std::move(step).error();
    auto plan = plan_of(ctx.target, loaded->version, state, std::move(step).value());
    remember_context(plan, catalog, ctx.target, std::move(context).value());
    return plan;
  };
  return h;
}

std::vector<workflow::Outcome> outcomes_of(const json::object& body) {
  std::vector<workflow::Outcome> out;
  auto* list = body.if_contains("outcomes");
  if (!list) return out;
  for (const auto& v : list->as_array()) {
    const auto& o = v.as_object();
    workflow::Outcome x;
    x.node = json_string(o, "node");
    x.visit = int32_of(o, "visit");
    x.attempt = int32_of(o, "attempt");
    x.ok = o.at("ok").as_bool();
    if (auto* out_v = o.if_contains("output")) x.output = *out_v;
    x.error_class = json_string(o, "error_class");
    x.error = json_string(o, "error");
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<workflow::Arrival> arrivals_of(const json::object& body) {
  std::vector<workflow::Arrival> out;
  auto* list = body.if_contains("arrivals");
  if (!list) return out;
  for (const auto& v : list->as_array()) {
    const auto& o = v.as_object();
    workflow::Arrival a;
    a.node = json_string(o, "node");
    a.visit = int32_of(o, "visit");
    a.event_type = json_string(o, "event_type");
    a.position = static_cast<std::uint64_t>(o.at("position").as_int64());
    a.payload = o.at("payload");
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

void register_run_commands(CommandPipeline& p, Catalog& catalog) {
  using workflow::Definition;
  using workflow::Step;
  p.add_command("run.start", start_handler(catalog));
  p.add_command("run.record_trigger_failure", trigger_failure_handler());
  p.add_command("run.advance", on_run(catalog, [](const Definition& def, run::State& s, run::Context& c,
                                                  const json::object& body, std::int64_t now) -> Result<Step> {
                  return workflow::advance(def, s, c, outcomes_of(body), arrivals_of(body), now);
                }));
  p.add_command("run.cancel", on_run(catalog, [](const Definition&, run::State& s, run::Context&,
                                                 const json::object& body, std::int64_t now) -> Result<Step> {
                  if (run::ended(s.status))
                    return Error::conflict(fmt::format("the run has ended ({})", run::status_name(s.status)));
                  return workflow::cancel(s, json_string(body, "reason"), now);
                }));
  p.add_command("run.restart", on_run(catalog, [](const Definition& def, run::State& s, run::Context& c,
                                                  const json::object&, std::int64_t now) -> Result<Step> {
                  if (s.status != run::Status::failed)
                    return Error::conflict(
                        fmt::format("only a failed run can be restarted; this one is {}", run::status_name(s.status)));
                  if (s.never_started)
                    return Error::conflict(
                        "the run never started: its triggering event did not fit the workflow's input; send the "
                        "event again with a payload that does");
                  return workflow::restart(def, s, c, now);
                }));
  p.add_command("run.mark_stuck", on_run(catalog, [](const Definition&, run::State& s, run::Context&,
                                                     const json::object&, std::int64_t) -> Result<Step> {
                  if (s.status != run::Status::running || s.stuck) return Step{};
                  return workflow::mark_stuck(s);
                }));
}

}  // namespace causeway
