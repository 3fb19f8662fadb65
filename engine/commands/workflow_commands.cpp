// The workflow commands (engine/aggregates/workflow.h):
//   workflow.create        target: the organization id; body {name, definition | template | fork_from}
//   workflow.update_draft  target: the workflow id; body {name, definition}
//   workflow.publish       target: the workflow id
//   workflow.archive       target: the workflow id; body {reason}
//   workflow.share         target: the workflow id; body {public}
// A caller with a tenant (CommandContext::tenant) only reaches its own
// organization's workflows; another's are "no such workflow". Drafts may be
// invalid (they are work in progress): every save replies with the full
// validation report, and publishing an invalid draft is refused.
#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "engine/pipeline.h"
#include "engine/workflow/catalog.h"
#include "engine/workflow/definition.h"
#include "engine/workflow/templates.h"

namespace causeway {
namespace json = boost::json;

namespace {

// The draft to store and its validation report.
struct Checked {
  workflow_agg::Draft draft;
  workflow::Report report;
};

Checked check(CommandPipeline& pipe, std::string name, json::value definition) {
  Checked c;
  c.report = workflow::validate(definition, pipe.schemas()).prefixed("/definition");
  c.draft.name = std::move(name);
  c.draft.hash = workflow::content_hash(definition);
  c.draft.definition = std::move(definition);
  return c;
}

void reply_with(Plan& plan, const workflow_agg::State& after, const workflow::Report* report) {
  plan.reply["workflow_id"] = after.workflow_id;
  plan.reply["org_id"] = after.org_id;
  plan.reply["name"] = after.name;
  plan.reply["draft_hash"] = after.draft_hash;
  plan.reply["archived"] = after.archived;
  plan.reply["public"] = after.is_public;
  if (const auto* v = after.latest()) {
    plan.reply["latest_version"] = v->number;
    plan.reply["latest_hash"] = v->hash;
  } else {
    plan.reply["latest_version"] = nullptr;
  }
  if (report) plan.reply["validation"] = report->to_json();
}

// Whether the caller may reach this workflow: its tenant's (any, for the operator).
Status own(const workflow_agg::State& s, const CommandContext& ctx) {
  if (!s.exists || (!ctx.tenant.empty() && s.org_id != ctx.tenant)) return Error::not_found("no such workflow");
  return ok_status();
}

// The definition a new workflow starts from, and where it came from.
struct Source {
  json::value definition;
  json::object forked_from;
  std::string template_name;
};

Result<Source> source_of(CommandPipeline& pipe, const CommandContext& ctx, const json::object& body) {
  const int given = body.contains("definition") + body.contains("template") + body.contains("fork_from");
  if (given != 1) return Error::invalid("give exactly one of definition, template and fork_from", "/definition");
  Source s;
  if (auto* d = body.if_contains("definition")) {
    s.definition = *d;
    return s;
  }
  if (body.contains("template")) {
    s.template_name = json_string(body, "template");
    auto text = workflow::template_text(s.template_name);
    if (!text) return Error::invalid(fmt::format("no template is named '{}'", s.template_name), "/template");
    boost::system::error_code ec;
    s.definition = json::parse(*text, ec);
    if (ec) return Error::corruption("a shipped template is not JSON");
    return s;
  }
  const auto& fork = body.at("fork_from").as_object();
  const std::string from = json_string(fork, "workflow_id");
  auto wf = pipe.aggregates().load<WorkflowAggregate>(workflow_agg::stream_of(from));
  if (!wf) return std::move(wf).error();
  const auto& st = wf->state;
  const bool visible = st.exists && (ctx.tenant.empty() || st.org_id == ctx.tenant || st.is_public);
  if (!visible) return Error::invalid("no workflow you may fork has this id", "/fork_from/workflow_id");
  const workflow_agg::Version* v = st.latest();
  if (auto* n = fork.if_contains("version"); n && n->is_int64()) v = st.by_number(n->as_int64());
  if (!v) return Error::invalid("that workflow has no such published version", "/fork_from/version");
  boost::system::error_code ec;
  s.definition = json::parse(v->definition, ec);
  if (ec) return Error::corruption("a stored workflow definition is not JSON");
  s.forked_from["workflow_id"] = from;
  s.forked_from["version"] = v->number;
  return s;
}

CommandHandler create_handler() {
  CommandHandler h;
  h.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
              CommandPipeline& pipe) -> Result<Plan> {
    if (auto st = require_existing<OrganizationAggregate>(pipe, ctx.target, "no such organization"); !st)
      return std::move(st).error();
    auto src = source_of(pipe, ctx, body);
    if (!src) return std::move(src).error();
    Checked c = check(pipe, json_string(body, "name"), std::move(src->definition));
    const std::string id = new_id_near("workflow", now, pipe.log(), ctx.target);
    workflow_agg::State state;
    auto d = workflow_agg::decide_create(state, id, ctx.target, c.draft, src->forked_from, src->template_name);
    if (!d) return std::move(d).error();
    Plan plan;
    plan.stream = workflow_agg::stream_of(id);
    plan.tenant = ctx.target;
    settle<WorkflowAggregate>(plan, state, std::move(d).value(), now);
    reply_with(plan, state, &c.report);
    return plan;
  };
  return h;
}

// A command on an existing workflow of the caller's tenant.
template <class Decide>
CommandHandler on_workflow(Decide decide, bool with_report) {
  CommandHandler h;
  h.plan = [decide, with_report](const json::object& body, const CommandContext& ctx, std::int64_t now,
                                 CommandPipeline& pipe) -> Result<Plan> {
    std::optional<workflow::Report> report;
    return plan_on<WorkflowAggregate>(
        pipe, workflow_agg::stream_of(ctx.target), now,
        [&](const workflow_agg::State& s) -> Result<Decision> {
          if (auto st = own(s, ctx); !st) return std::move(st).error();
          auto d = decide(s, body, pipe, report);
          if (!d && report && !report->ok() && d.error().code == Errc::invalid) {
            const auto& first = report->errors.front();
            return Error::invalid(fmt::format("the draft is not valid: {} ({} problems in all)", first.message,
                                              report->errors.size()),
                                  first.pointer);
          }
          return d;
        },
        [&](Plan& plan, const workflow_agg::State& after) {
          plan.tenant = after.org_id;
          reply_with(plan, after, with_report && report ? &*report : nullptr);
        });
  };
  return h;
}

}  // namespace

void register_workflow_commands(CommandPipeline& p) {
  p.add_command("workflow.create", create_handler());
  p.add_command("workflow.update_draft",
                on_workflow(
                    [](const workflow_agg::State& s, const json::object& body, CommandPipeline& pipe,
                       std::optional<workflow::Report>& report) -> Result<Decision> {
                      Checked c = check(pipe, json_string(body, "name"), body.at("definition"));
                      report = std::move(c.report);
                      return workflow_agg::decide_update_draft(s, c.draft);
                    },
                    true));
  p.add_command("workflow.publish",
                on_workflow(
                    [](const workflow_agg::State& s, const json::object&, CommandPipeline& pipe,
                       std::optional<workflow::Report>& report) -> Result<Decision> {
                      boost::system::error_code ec;
                      auto draft = json::parse(s.draft, ec);
                      if (ec) return Error::corruption("the stored draft is not JSON");
                      report = workflow::validate(draft, pipe.schemas()).prefixed("/definition");
                      return workflow_agg::decide_publish(s, report->ok());
                    },
                    false));
  p.add_command("workflow.archive",
                on_workflow(
                    [](const workflow_agg::State& s, const json::object& body, CommandPipeline&,
                       std::optional<workflow::Report>&) {
                      return workflow_agg::decide_archive(s, json_string(body, "reason"));
                    },
                    false));
  p.add_command("workflow.share",
                on_workflow(
                    [](const workflow_agg::State& s, const json::object& body, CommandPipeline&,
                       std::optional<workflow::Report>&) {
                      return workflow_agg::decide_share(s, body.at("public").as_bool());
                    },
                    false));
}

}  // namespace causeway
