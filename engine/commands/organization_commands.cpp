// organization.create (POST /v1/organizations) and organization.rename
// (PATCH /v1/organizations/{id}).
#include <regex>

#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "engine/pipeline.h"

namespace causeway {
namespace json = boost::json;

namespace {
bool valid_org_id(const std::string& id) {
  if (id.size() != 4 + 32 || id.rfind("org-", 0) != 0) return false;
  return std::all_of(id.begin() + 4, id.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}
}  // namespace

void register_organization_commands(CommandPipeline& p) {
  CommandHandler create;
  create.plan = [](const json::object& body, const CommandContext&, std::int64_t now,
                   CommandPipeline& pipe) -> Result<Plan> {
    organization::Create cmd;
    cmd.org_id = new_id("org", now);
    cmd.slug = json_string(body, "slug");
    cmd.name = json_string(body, "name");
    cmd.owner_user_id = json_string(body, "owner_user_id");
    auto owner = pipe.aggregates().load<UserAggregate>(user::stream_of(cmd.owner_user_id));
    if (!owner) return std::move(owner).error();
    cmd.owner_exists = owner->state.exists;
    organization::State state;
    auto d = organization::decide(state, cmd, now);
    if (!d) return std::move(d).error();
    Plan plan;
    plan.stream = cmd.org_id;
    plan.tenant = cmd.org_id;
    plan.expected = 0;
    settle<OrganizationAggregate>(plan, state, std::move(d).value(), now);
    plan.reply["org_id"] = cmd.org_id;
    plan.reply["slug"] = cmd.slug;
    plan.reply["stream_version"] = 1;
    return plan;
  };
  p.add_command("organization.create", std::move(create));

  CommandHandler rename;
  rename.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
                   CommandPipeline& pipe) -> Result<Plan> {
    if (!valid_org_id(ctx.target)) return Error::not_found("no such organization");
    auto loaded = pipe.aggregates().load<OrganizationAggregate>(ctx.target);
    if (!loaded) return std::move(loaded).error();
    organization::Rename cmd{json_string(body, "name")};
    auto d = organization::decide(loaded->state, cmd, ctx.target, now);
    if (!d) return std::move(d).error();
    organization::State state = loaded->state;
    Plan plan;
    plan.stream = ctx.target;
    plan.tenant = ctx.target;
    plan.expected = loaded->version;
    plan.status = 200;
    settle<OrganizationAggregate>(plan, state, std::move(d).value(), now);
    plan.reply["org_id"] = ctx.target;
    plan.reply["name"] = state.name;
    plan.reply["stream_version"] = loaded->version + plan.decision.events.size();
    return plan;
  };
  p.add_command("organization.rename", std::move(rename));
}

}  // namespace causeway
