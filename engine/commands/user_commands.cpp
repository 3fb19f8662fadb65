// user.signup (POST /v1/users), user.change_password, and the account
// tokens: user.request_token, user.verify_email, user.reset_password
// (engine/aggregates/user.h, engine/mail/tokens.h).
#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "engine/password_policy.h"
#include "engine/pipeline.h"

namespace causeway {
namespace json = boost::json;

std::string referral_code_of(const KeyVault& vault, const std::string& user_id) {
  return "ref_" + vault.blind_index("referral_code", user_id).substr(0, 12);
}

void register_user_commands(CommandPipeline& p) {
  CommandHandler signup;
  signup.prepare = [](json::object& body, CommandPipeline& pipe) -> Status {
    if (auto st = check_password_policy(json_string(body, "password"), json_string(body, "email"),
                                        json_string(body, "display_name"));
        !st)
      return st;
    auto hashed = hash_password(json_string(body, "password"), pipe.options().password);
    if (!hashed) return std::move(hashed).error();
    body.erase("password");
    body["password_hash"] = std::move(hashed).value();
    return ok_status();
  };
  signup.plan = [](const json::object& body, const CommandContext&, std::int64_t now,
                   CommandPipeline& pipe) -> Result<Plan> {
    user::Signup cmd;
    cmd.email = user::normalize_email(json_string(body, "email"));
    cmd.email_index = pipe.vault().blind_index("email", cmd.email);
    // Born on the partition that arbitrates the address (its reservation key).
    cmd.user_id = new_id_near("user", now, pipe.log(), "email:" + cmd.email_index);
    cmd.display_name = json_string(body, "display_name");
    cmd.password_hash = json_string(body, "password_hash");
    cmd.referral_code = referral_code_of(pipe.vault(), cmd.user_id);
    if (const std::string given = json_string(body, "referral_code"); !given.empty()) {
      auto referrer = pipe.log().reservation_owner("referral:" + given);
      if (!referrer) return std::move(referrer).error();
      if (!referrer->has_value()) return Error::invalid("no user has this referral code", "/referral_code");
      cmd.referred_by = **referrer;
    }
    cmd.verification_token_id = new_id(now);
    cmd.verification_expires_at_us = now + user::token_ttl_us("verify_email");
    user::State fresh;  // a new id has no history
    auto d = user::decide(fresh, cmd, now);
    if (!d) return std::move(d).error();
    Plan plan;
    plan.stream = user::stream_of(cmd.user_id);
    plan.expected = 0;
    settle<UserAggregate>(plan, fresh, std::move(d).value(), now);
    plan.reply["user_id"] = cmd.user_id;
    plan.reply["stream_version"] = 1;
    return plan;
  };
  p.add_command("user.signup", std::move(signup));

  CommandHandler change;
  change.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
                   CommandPipeline& pipe) -> Result<Plan> {
    return plan_on<UserAggregate>(
        pipe, user::stream_of(ctx.target), now,
        [&](const user::State& s) { return user::decide_password_change(s, ctx.target, json_string(body, "password_hash")); },
        [&](Plan& plan, const user::State&) {
          plan.reply["user_id"] = ctx.target;
          plan.reply["password_changed"] = true;
        });
  };
  p.add_command("user.change_password", std::move(change));

  CommandHandler request;
  request.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
                    CommandPipeline& pipe) -> Result<Plan> {
    const std::string purpose = json_string(body, "purpose");
    const std::string token_id = new_id(now);
    return plan_on<UserAggregate>(
        pipe, user::stream_of(ctx.target), now,
        [&](const user::State& s) {
          return user::decide_request_token(s, ctx.target, purpose, token_id, now + user::token_ttl_us(purpose));
        },
        [&](Plan& plan, const user::State&) {
          plan.status = 202;
          plan.reply["status"] = "accepted";
        });
  };
  p.add_command("user.request_token", std::move(request));

  CommandHandler verify;
  verify.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
                   CommandPipeline& pipe) -> Result<Plan> {
    return plan_on<UserAggregate>(
        pipe, user::stream_of(ctx.target), now,
        [&](const user::State& s) { return user::decide_verify_email(s, ctx.target, json_string(body, "token_id"), now); },
        [&](Plan& plan, const user::State& after) {
          plan.reply["user_id"] = ctx.target;
          plan.reply["email_verified"] = after.email_verified;
        });
  };
  p.add_command("user.verify_email", std::move(verify));

  CommandHandler reset;
  reset.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
                  CommandPipeline& pipe) -> Result<Plan> {
    return plan_on<UserAggregate>(
        pipe, user::stream_of(ctx.target), now,
        [&](const user::State& s) {
          return user::decide_password_reset(s, ctx.target, json_string(body, "token_id"),
                                             json_string(body, "password_hash"), now);
        },
        [&](Plan& plan, const user::State&) {
          plan.reply["user_id"] = ctx.target;
          plan.reply["password_changed"] = true;
        });
  };
  p.add_command("user.reset_password", std::move(reset));
}

}  // namespace causeway
