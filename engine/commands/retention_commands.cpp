// The retention commands (engine/aggregates/retention.h). The target
// (CommandContext::target) is the scope: "all" or an organization id.
#include <fmt/format.h>

#include "engine/commands/traits.h"
#include "engine/pipeline.h"
#include "engine/retention/buckets.h"
#include "engine/schema_registry.h"
#include "events/json_fields.h"

namespace causeway {
namespace json = boost::json;

namespace {

bool valid_category(const std::string& c) {
  if (c.empty() || c.size() > 32 || c[0] < 'a' || c[0] > 'z') return false;
  for (char ch : c)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  return true;
}

using Decide = std::function<Result<Decision>(const retention::State&, const std::string& scope,
                                              const std::string& category, const json::object& body,
                                              CommandPipeline& pipe)>;

CommandHandler handler(Decide decide) {
  CommandHandler h;
  h.plan = [decide = std::move(decide)](const json::object& body, const CommandContext& ctx, std::int64_t now,
                                        CommandPipeline& pipe) -> Result<Plan> {
    const std::string& scope = ctx.target;
    if (scope != "all") {
      if (auto st = require_existing<OrganizationAggregate>(pipe, scope, "no such organization"); !st)
        return std::move(st).error();
    }
    const std::string category = json_string(body, "category");
    if (!valid_category(category))
      return Error::invalid("a category is 1 to 32 lowercase letters, digits or underscores", "/category");
    const std::string stream = retention::stream_of(scope);
    auto loaded = pipe.aggregates().load<RetentionAggregate>(stream);
    if (!loaded) return std::move(loaded).error();
    auto d = decide(loaded->state, scope, category, body, pipe);
    if (!d) return std::move(d).error();
    retention::State state = loaded->state;
    Plan plan;
    plan.stream = stream;
    plan.expected = loaded->version;
    plan.tenant = retention::tenant_of_scope(scope);
    plan.status = 200;
    settle<RetentionAggregate>(plan, state, std::move(d).value(), now);
    plan.reply["scope"] = scope;
    plan.reply["category"] = category;
    if (auto it = state.max_age_days.find(category); it != state.max_age_days.end())
      plan.reply["max_age_days"] = it->second;
    else
      plan.reply["max_age_days"] = nullptr;
    return plan;
  };
  return h;
}

}  // namespace

void register_retention_commands(CommandPipeline& p) {
  p.add_command("retention.set_policy", handler([](const retention::State& s, const std::string& scope,
                                                   const std::string& category, const json::object& body,
                                                   CommandPipeline& pipe) {
                  return retention::decide_set(s, scope, category, int_field(body, "max_age_days"),
                                               json_string(body, "reason"),
                                               pipe.schemas().has_event_category(category));
                }));
  p.add_command("retention.remove_policy", handler([](const retention::State& s, const std::string& scope,
                                                      const std::string& category, const json::object& body,
                                                      CommandPipeline& pipe) {
                  return retention::decide_remove(s, scope, category, json_string(body, "reason"),
                                                  pipe.schemas().has_event_category(category));
                }));
  p.add_command("retention.enforce", handler([](const retention::State& s, const std::string& scope,
                                                const std::string& category, const json::object& body,
                                                CommandPipeline&) -> Result<Decision> {
                  auto day = retention::parse_date(json_string(body, "day"));
                  if (!day) return Error::invalid("day is not a calendar date", "/day");
                  return retention::decide_enforce(s, scope, category, *day, int_field(body, "max_age_days"),
                                                   json_string(body, "policy"));
                }));
}

}  // namespace causeway
