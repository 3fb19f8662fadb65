// Sessions and failed logins (engine/aggregates/session.h, user.h). The login
// route (api/session_routes.cpp) checks the password, then issues
// session.start or user.record_login_failure; these commands are not routed
// directly.
#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "engine/pipeline.h"
#include "events/codec.h"

namespace causeway {
namespace json = boost::json;

namespace {

// Fresh secrets, drawn before planning so a re-decide keeps the same ones.
Status draw_secrets(json::object& body, CommandPipeline&) {
  body["access_secret"] = random_token_hex();
  body["refresh_secret"] = random_token_hex();
  return ok_status();
}

session::Tokens tokens_of(const json::object& body, std::int64_t now, const CommandPipeline::Options& o) {
  return {blake2b_hex(json_string(body, "access_secret")), blake2b_hex(json_string(body, "refresh_secret")),
          now + o.access_ttl_us, now + o.refresh_ttl_us};
}

// The reply's tokens: shown once, never stored (the routes refuse Idempotency-Key).
void reply_tokens(Plan& plan, const std::string& session_id, const json::object& body, const session::Tokens& t) {
  const std::string hex = session_id.substr(8);  // "session-<32 hex>"
  plan.reply["session_id"] = session_id;
  plan.reply["access_token"] = "cwa_" + hex + "_" + json_string(body, "access_secret");
  plan.reply["access_expires_at"] = rfc3339_us(t.access_expires_at_us);
  plan.reply["refresh_token"] = "cwr_" + hex + "_" + json_string(body, "refresh_secret");
  plan.reply["refresh_expires_at"] = rfc3339_us(t.refresh_expires_at_us);
}

}  // namespace

void register_session_commands(CommandPipeline& p) {
  CommandHandler start;
  start.prepare = draw_secrets;
  start.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
                  CommandPipeline& pipe) -> Result<Plan> {
    auto user = pipe.aggregates().load<UserAggregate>(ctx.target);
    if (!user) return std::move(user).error();
    const std::string session_id = new_id_near("session", now, pipe.log(), ctx.target);
    const auto t = tokens_of(body, now, pipe.options());
    auto d = session::decide_start(session_id, ctx.target, user->state.exists, t, json_string(body, "user_agent"),
                                   json_string(body, "ip"));
    if (!d) return std::move(d).error();
    // A magic link instead of a password: usable now, and spent by this very
    // commit (the reservation makes a second use of the link a conflict).
    if (const std::string magic = json_string(body, "magic_token_id"); !magic.empty()) {
      if (auto tok = user::usable_token(user->state, "magic_link", magic, now); !tok) return std::move(tok).error();
      d->events.front().data["method"] = "magic_link";
      d->events.front().data["token_id"] = magic;
      d->reservations.push_back({"account_token:" + magic, session_id, "/token"});
    }
    session::State state;
    Plan plan;
    plan.stream = session_id;
    settle<SessionAggregate>(plan, state, std::move(d).value(), now);
    plan.reply["user_id"] = ctx.target;
    reply_tokens(plan, session_id, body, t);
    return plan;
  };
  p.add_command("session.start", std::move(start));

  CommandHandler impersonate;
  impersonate.prepare = draw_secrets;
  impersonate.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
                        CommandPipeline& pipe) -> Result<Plan> {
    auto user = pipe.aggregates().load<UserAggregate>(ctx.target);
    if (!user) return std::move(user).error();
    const std::string session_id = new_id_near("session", now, pipe.log(), ctx.target);
    const std::string access_hash = blake2b_hex(json_string(body, "access_secret"));
    const std::int64_t ends = now + int_field(body, "minutes") * 60'000'000LL;
    auto d = session::decide_impersonate(session_id, ctx.target, user->state.exists, access_hash, ctx.actor.id,
                                         json_string(body, "reason"), now, ends, json_string(body, "user_agent"),
                                         json_string(body, "ip"));
    if (!d) return std::move(d).error();
    session::State state;
    Plan plan;
    plan.stream = session_id;
    settle<SessionAggregate>(plan, state, std::move(d).value(), now);
    const std::string hex = session_id.substr(8);
    plan.reply["session_id"] = session_id;
    plan.reply["user_id"] = ctx.target;
    plan.reply["impersonator"] = ctx.actor.id;
    plan.reply["access_token"] = "cwa_" + hex + "_" + json_string(body, "access_secret");
    plan.reply["access_expires_at"] = rfc3339_us(ends);
    return plan;
  };
  p.add_command("session.impersonate", std::move(impersonate));

  CommandHandler refresh;
  refresh.prepare = draw_secrets;
  refresh.plan = [](const json::object& body, const CommandContext&, std::int64_t now,
                    CommandPipeline& pipe) -> Result<Plan> {
    const std::string token = json_string(body, "refresh_token");  // "cwr_<32 hex>_<64 hex>" (schema)
    const std::string session_id = "session-" + token.substr(4, 32);
    auto loaded = pipe.aggregates().load<SessionAggregate>(session_id);
    if (!loaded) return std::move(loaded).error();
    const auto t = tokens_of(body, now, pipe.options());
    bool reused = false;
    auto d = session::decide_refresh(loaded->state, session_id, blake2b_hex(token.substr(37)), t, now, reused);
    if (!d) return std::move(d).error();
    session::State state = loaded->state;
    Plan plan;
    plan.stream = session_id;
    plan.expected = loaded->version;
    settle<SessionAggregate>(plan, state, std::move(d).value(), now);
    if (reused) {
      // Recorded (reuse + revocation), then refused: the route answers 401.
      plan.status = 401;
      plan.reply["session_id"] = session_id;
      plan.reply["revoked"] = true;
      return plan;
    }
    plan.status = 200;
    plan.reply["user_id"] = state.user_id;
    reply_tokens(plan, session_id, body, t);
    return plan;
  };
  p.add_command("session.refresh", std::move(refresh));

  CommandHandler revoke;
  revoke.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
                   CommandPipeline& pipe) -> Result<Plan> {
    if (ctx.target.rfind("session-", 0) != 0) return Error::not_found("no such session");
    return plan_on<SessionAggregate>(
        pipe, ctx.target, now,
        [&](const session::State& st) { return session::decide_revoke(st, ctx.target, json_string(body, "reason")); },
        [&](Plan& plan, const session::State&) {
          plan.reply["session_id"] = ctx.target;
          plan.reply["revoked"] = true;
        });
  };
  p.add_command("session.revoke", std::move(revoke));

  CommandHandler failure;
  failure.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
                    CommandPipeline& pipe) -> Result<Plan> {
    return plan_on<UserAggregate>(
        pipe, user::stream_of(ctx.target), now,
        [&](const user::State& s) { return user::decide_login_failure(s, ctx.target, json_string(body, "ip")); },
        [&](Plan& plan, const user::State& after) {
          plan.reply["user_id"] = ctx.target;
          if (auto until = user::locked_until(after, now)) plan.reply["locked_until_us"] = until;
        });
  };
  p.add_command("user.record_login_failure", std::move(failure));
}

}  // namespace causeway
