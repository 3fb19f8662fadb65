// The organization commands (engine/aggregates/organization.h). The target
// (CommandContext::target) is the organization id, except for
// organization.create, which chooses it.
//
//   organization.create             POST   /v1/organizations
//   organization.rename             PATCH  /v1/organizations/{org}
//   organization.invite             POST   /v1/organizations/{org}/invitations       {email, role}
//   organization.revoke_invitation  DELETE /v1/organizations/{org}/invitations/{id}  {invitation_id}
//   organization.accept_invitation  POST   /v1/invitations/acceptance                {invitation_id, user_id}
//   organization.decline_invitation POST   /v1/invitations/declination               {invitation_id}
//   organization.change_role        PUT    /v1/organizations/{org}/members/{user}/role {user_id, role}
//   organization.remove_member      DELETE /v1/organizations/{org}/members/{user}    {user_id, left}
//   organization.transfer_ownership POST   /v1/organizations/{org}/ownership-transfer {user_id}
//
// The routes (api/member_routes.cpp) check who may do what and build the
// bodies of the last six from the path, the session and the link's token.
#include <functional>

#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "engine/pipeline.h"

namespace causeway {
namespace json = boost::json;

namespace {

using Decide = std::function<Result<Decision>(const organization::State&, const json::object& body,
                                              const CommandContext& ctx, std::int64_t now, CommandPipeline& pipe)>;

using Reply = std::function<void(Plan&, const organization::State& after)>;

// A command on an existing organization: loads it, decides, settles; the
// reply is the organization id and the stream version after the command,
// and what `reply` adds.
CommandHandler on_organization(Decide decide, Reply reply = {}) {
  CommandHandler h;
  h.plan = [decide = std::move(decide), reply = std::move(reply)](const json::object& body, const CommandContext& ctx,
                                                                  std::int64_t now,
                                                                  CommandPipeline& pipe) -> Result<Plan> {
    if (!is_id(ctx.target, "org")) return Error::not_found("no such organization");
    auto plan = plan_on<OrganizationAggregate>(
        pipe, ctx.target, now,
        [&](const organization::State& s) -> Result<Decision> {
          if (!s.exists) return Error::not_found("no such organization");
          return decide(s, body, ctx, now, pipe);
        },
        [&](Plan& p, const organization::State& after) {
          p.reply["org_id"] = ctx.target;
          p.reply["stream_version"] = p.expected + p.decision.events.size();
          if (reply) reply(p, after);
        });
    if (plan) plan->tenant = ctx.target;
    return plan;
  };
  return h;
}

}  // namespace

void register_organization_commands(CommandPipeline& p) {
  CommandHandler create;
  create.plan = [](const json::object& body, const CommandContext&, std::int64_t now,
                   CommandPipeline& pipe) -> Result<Plan> {
    organization::Create cmd;
    cmd.slug = json_string(body, "slug");
    // Born on the partition that arbitrates the slug (its reservation key).
    cmd.org_id = new_id_near("org", now, pipe.log(), "slug:" + cmd.slug);
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

  p.add_command("organization.rename", on_organization([](const organization::State& s, const json::object& body,
                                                          const CommandContext& ctx, std::int64_t now,
                                                          CommandPipeline&) {
                  return organization::decide(s, organization::Rename{json_string(body, "name")}, ctx.target, now);
                }, [](Plan& p, const organization::State& after) { p.reply["name"] = after.name; }));

  p.add_command("organization.invite", on_organization([](const organization::State& s, const json::object& body,
                                             const CommandContext& ctx, std::int64_t now,
                                             CommandPipeline& pipe) -> Result<Decision> {
    organization::Invite cmd;
    cmd.invitation_id = new_id(now);
    cmd.email = user::normalize_email(json_string(body, "email"));
    cmd.email_index = pipe.vault().blind_index("email", cmd.email);
    cmd.role = json_string(body, "role");
    cmd.invited_by = ctx.actor.id;
    auto account = pipe.log().reservation_owner("email:" + cmd.email_index);
    if (!account) return std::move(account).error();
    if (*account && !organization::role_of(s, **account).empty()) cmd.member_with_email = **account;
    return organization::decide(s, cmd, ctx.target, now);
  }, [](Plan& p, const organization::State&) {
    // The reply names the invitation; the link itself goes only to the address.
    p.status = 201;
    const auto& data = p.decision.events.front().data;
    p.reply["invitation_id"] = data.at("invitation_id");
    p.reply["role"] = data.at("role");
    p.reply["expires_at_us"] = data.at("expires_at_us");
  }));

  p.add_command("organization.accept_invitation",
                on_organization([](const organization::State& s, const json::object& body, const CommandContext& ctx,
                                   std::int64_t now, CommandPipeline& pipe) -> Result<Decision> {
                  organization::Accept cmd{json_string(body, "invitation_id"), json_string(body, "user_id")};
                  auto inv = s.invitations.find(cmd.invitation_id);
                  if (inv != s.invitations.end()) {
                    auto account = pipe.log().reservation_owner("email:" + inv->second.email_index);
                    if (!account) return std::move(account).error();
                    cmd.address_matches = *account && **account == cmd.user_id;
                  }
                  if (cmd.address_matches) {
                    auto user = pipe.aggregates().load<UserAggregate>(cmd.user_id);
                    if (!user) return std::move(user).error();
                    cmd.address_verified = user->state.email_verified;
                  }
                  return organization::decide(s, cmd, ctx.target, now);
                }));
  p.add_command("organization.decline_invitation",
                on_organization([](const organization::State& s, const json::object& body, const CommandContext& ctx,
                                   std::int64_t now, CommandPipeline&) {
                  return organization::decide_decline(s, json_string(body, "invitation_id"), ctx.target, now);
                }));
  p.add_command("organization.revoke_invitation",
                on_organization([](const organization::State& s, const json::object& body, const CommandContext& ctx,
                                   std::int64_t now, CommandPipeline&) {
                  return organization::decide_revoke(s, json_string(body, "invitation_id"), ctx.target, now);
                }));
  p.add_command("organization.change_role",
                on_organization([](const organization::State& s, const json::object& body, const CommandContext& ctx,
                                   std::int64_t now, CommandPipeline&) {
                  return organization::decide_change_role(s, json_string(body, "user_id"), json_string(body, "role"),
                                                          ctx.target, now);
                }));
  p.add_command("organization.remove_member",
                on_organization([](const organization::State& s, const json::object& body, const CommandContext& ctx,
                                   std::int64_t now, CommandPipeline&) {
                  const auto* left = body.if_contains("left");
                  return organization::decide_remove(s, json_string(body, "user_id"), left && left->is_bool() &&
                                                                                       left->as_bool(),
                                                     ctx.target, now);
                }));
  p.add_command("organization.rotate_webhook_secret",
                on_organization([](const organization::State& s, const json::object& body, const CommandContext& ctx,
                                   std::int64_t now, CommandPipeline&) {
                  const auto* hours = body.if_contains("grace_hours");
                  const std::int64_t grace_us = hours && hours->is_int64() ? hours->as_int64() * 3'600'000'000LL
                                                                          : organization::kWebhookSecretGraceUs;
                  return organization::decide_rotate_webhook_secret(s, ctx.target, grace_us, now);
                },
                [](Plan& p, const organization::State& after) {
                  p.reply["generation"] = static_cast<std::int64_t>(after.webhook_generation);
                }));
  p.add_command("organization.transfer_ownership",
                on_organization([](const organization::State& s, const json::object& body, const CommandContext& ctx,
                                   std::int64_t, CommandPipeline&) {
                  return organization::decide_transfer(s, json_string(body, "user_id"), ctx.target);
                }));
}

}  // namespace causeway
