// api_key.create (POST /v1/admin/organizations/{org}/api-keys) and
// api_key.revoke (DELETE /v1/admin/api-keys/{key}).
//
// The secret is drawn in prepare() (after validation, so a client cannot
// supply it) and only its hash reaches the log. The reply carries the token
// once; api/ refuses an Idempotency-Key on creation so the token is never
// stored with a replayable reply.
#include <sodium.h>

#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "engine/pipeline.h"
#include "events/codec.h"

namespace causeway {
namespace json = boost::json;

std::string api_key_secret_hash(std::string_view secret) { return blake2b_hex(secret); }

void register_api_key_commands(CommandPipeline& p) {
  CommandHandler create;
  create.prepare = [](json::object& body, CommandPipeline&) -> Status {
    body["secret"] = random_token_hex();
    return ok_status();
  };
  create.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
                   CommandPipeline& pipe) -> Result<Plan> {
    api_key::Create cmd;
    cmd.key_id = new_id_near("key", now, pipe.log(), ctx.target);
    cmd.org_id = ctx.target;
    cmd.name = json_string(body, "name");
    cmd.role = json_string(body, "role");
    const std::string secret = json_string(body, "secret");
    cmd.secret_hash = api_key_secret_hash(secret);
    auto org = pipe.aggregates().load<OrganizationAggregate>(ctx.target);
    if (!org) return std::move(org).error();
    cmd.org_exists = org->state.exists;
    api_key::State state;
    auto d = api_key::decide(state, cmd, now);
    if (!d) return std::move(d).error();
    Plan plan;
    plan.stream = cmd.key_id;
    plan.tenant = cmd.org_id;
    settle<ApiKeyAggregate>(plan, state, std::move(d).value(), now);
    plan.reply["key_id"] = cmd.key_id;
    plan.reply["org_id"] = cmd.org_id;
    plan.reply["role"] = cmd.role;
    plan.reply["token"] = "cwk_" + cmd.key_id.substr(4) + "_" + secret;
    return plan;
  };
  p.add_command("api_key.create", std::move(create));

  CommandHandler revoke;
  revoke.plan = [](const json::object&, const CommandContext& ctx, std::int64_t now,
                   CommandPipeline& pipe) -> Result<Plan> {
    return plan_on<ApiKeyAggregate>(
        pipe, ctx.target, now, [&](const api_key::State& st) { return api_key::decide_revoke(st, ctx.target, now); },
        [&](Plan& plan, const api_key::State& after) {
          plan.tenant = after.org_id;  // a key's organization never changes
          plan.reply["key_id"] = ctx.target;
          plan.reply["revoked"] = true;
        });
  };
  p.add_command("api_key.revoke", std::move(revoke));
}

}  // namespace causeway
