// TOTP two-factor and backup codes (engine/aggregates/user.h, engine/totp.h).
// The secret lives only in the sealed user.totp_enrolled event: checking a
// code opens the latest one with the user's key.
#include <boost/json/parse.hpp>
#include <sodium.h>

#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "engine/pipeline.h"
#include "engine/totp.h"
#include "events/codec.h"

namespace causeway {
namespace json = boost::json;

namespace {

constexpr int kBackupCodes = 10;

// A backup code's stored hash: keyed by the master key (the vault's blind
// index), so the hashes in the log cannot be searched offline, and bound to the
// user.
std::string backup_hash(CommandPipeline& pipe, const std::string& user_id, std::string_view code) {
  return pipe.vault().blind_index("backup_code", user_id + ":" + std::string(code));
}

// The secret of the user's latest enrollment.
Result<totp::Secret> enrolled_secret(CommandPipeline& pipe, const std::string& user_id) {
  auto events = pipe.log().read_stream(user::stream_of(user_id), 1, 1'000'000);
  if (!events) return std::move(events).error();
  for (auto it = events->rbegin(); it != events->rend(); ++it) {
    if (it->type != "user.totp_enrolled") continue;
    boost::system::error_code ec;
    auto data = json::parse(it->data, ec);
    if (ec || !data.is_object()) return Error::corruption("a user.totp_enrolled payload is not a JSON object");
    if (auto st = pipe.vault().open_all(data); !st) return std::move(st).error();
    auto secret = totp::from_base32(json_string(data.as_object(), "secret"));
    if (!secret) return Error::forbidden("the two-factor secret is erased or expired: turn two-factor off and on again");
    return *secret;
  }
  return Error::conflict("two-factor was never enrolled");
}

struct Factor {
  std::int64_t step = -1;  // a TOTP code of this step
  int index = -1;          // or this backup code
};

// Which factor the body proves ({"otp"} or {"backup_code"}), or unauthorized.
Result<Factor> check_factor(CommandPipeline& pipe, const std::string& user_id, const user::State& s,
                            const json::object& body, std::int64_t now) {
  if (auto* otp = body.if_contains("otp")) {
    auto secret = enrolled_secret(pipe, user_id);
    if (!secret) return std::move(secret).error();
    auto step = totp::match(*secret, otp->as_string(), now, s.totp_last_step);
    sodium_memzero(secret->data(), secret->size());
    if (!step) return Error::unauthorized("the one-time code is wrong or was already used");
    return Factor{*step, -1};
  }
  const std::string presented = backup_hash(pipe, user_id, json_string(body, "backup_code"));
  int found = -1;
  for (std::size_t i = 0; i < s.backup_hashes.size(); ++i)  // every hash, so timing tells nothing
    if (s.backup_hashes[i].size() == presented.size() &&
        sodium_memcmp(s.backup_hashes[i].data(), presented.data(), presented.size()) == 0 && !s.backup_used[i])
      found = static_cast<int>(i);
  if (found < 0) return Error::unauthorized("the backup code is wrong or was already used");
  return Factor{-1, found};
}

using Decide = std::function<Result<Decision>(const json::object& body, const user::State& s,
                                              const std::string& user_id, std::int64_t now, CommandPipeline& pipe,
                                              Plan& plan)>;

CommandHandler handler(Decide decide) {
  CommandHandler h;
  h.plan = [decide = std::move(decide)](const json::object& body, const CommandContext& ctx, std::int64_t now,
                                        CommandPipeline& pipe) -> Result<Plan> {
    auto loaded = pipe.aggregates().load<UserAggregate>(ctx.target);
    if (!loaded) return std::move(loaded).error();
    if (!loaded->state.exists) return Error::not_found("no such user");
    Plan plan;
    plan.stream = user::stream_of(ctx.target);
    plan.expected = loaded->version;
    plan.status = 200;
    auto d = decide(body, loaded->state, ctx.target, now, pipe, plan);
    if (!d) return std::move(d).error();
    user::State state = loaded->state;
    settle<UserAggregate>(plan, state, std::move(d).value(), now);
    plan.reply["user_id"] = ctx.target;
    plan.reply["totp_enabled"] = state.totp_enabled;
    return plan;
  };
  return h;
}

}  // namespace

void register_totp_commands(CommandPipeline& p) {
  auto enroll = handler([](const json::object& body, const user::State& s, const std::string& user_id,
                           std::int64_t, CommandPipeline&, Plan& plan) -> Result<Decision> {
    const std::string secret = json_string(body, "secret");
    auto parsed = totp::from_base32(secret);
    if (!parsed) return Error::corruption("the drawn secret does not decode");
    plan.reply["secret"] = secret;
    plan.reply["otpauth_uri"] = totp::otpauth_uri("Causeway", user_id, *parsed);
    return user::decide_totp_enroll(s, user_id, secret);
  });
  enroll.prepare = [](json::object& body, CommandPipeline&) -> Status {
    totp::Secret s;
    randombytes_buf(s.data(), s.size());
    body["secret"] = totp::base32(s);
    sodium_memzero(s.data(), s.size());
    return ok_status();
  };
  p.add_command("user.totp_enroll", std::move(enroll));

  auto confirm = handler([](const json::object& body, const user::State& s, const std::string& user_id,
                            std::int64_t now, CommandPipeline& pipe, Plan& plan) -> Result<Decision> {
    if (!s.totp_pending) return Error::conflict(s.totp_enabled ? "two-factor is already on" : "enroll first");
    auto secret = enrolled_secret(pipe, user_id);
    if (!secret) return std::move(secret).error();
    auto step = totp::match(*secret, json_string(body, "otp"), now, s.totp_last_step);
    if (!step) return Error::invalid("the code does not match: check the authenticator app's clock", "/otp");
    std::vector<std::string> hashes;
    json::array codes;
    for (auto& c : body.at("backup_codes").as_array()) {
      hashes.push_back(backup_hash(pipe, user_id, c.as_string()));
      codes.push_back(c);
    }
    plan.reply["backup_codes"] = std::move(codes);
    return user::decide_totp_enable(s, user_id, *step, hashes);
  });
  confirm.prepare = [](json::object& body, CommandPipeline&) -> Status {
    json::array codes;
    for (int i = 0; i < kBackupCodes; ++i) codes.emplace_back(random_token_hex().substr(0, 16));  // 64 bits
    body["backup_codes"] = std::move(codes);
    return ok_status();
  };
  p.add_command("user.totp_confirm", std::move(confirm));

  p.add_command("user.second_factor",
                handler([](const json::object& body, const user::State& s, const std::string& user_id,
                           std::int64_t now, CommandPipeline& pipe, Plan& plan) -> Result<Decision> {
                  if (!s.totp_enabled) return Error::conflict("two-factor is off");
                  auto f = check_factor(pipe, user_id, s, body, now);
                  if (!f) return std::move(f).error();
                  plan.reply["method"] = f->step >= 0 ? "totp" : "backup_code";
                  return user::decide_second_factor(s, user_id, f->step, f->index);
                }));

  p.add_command("user.totp_disable",
                handler([](const json::object& body, const user::State& s, const std::string& user_id,
                           std::int64_t now, CommandPipeline& pipe, Plan&) -> Result<Decision> {
                  if (!s.totp_enabled) return user::decide_totp_disable(s, user_id);
                  auto f = check_factor(pipe, user_id, s, body, now);
                  if (!f) return std::move(f).error();
                  auto used = user::decide_second_factor(s, user_id, f->step, f->index);
                  if (!used) return used;
                  auto off = user::decide_totp_disable(s, user_id);
                  if (!off) return off;
                  for (auto& e : off->events) used->events.push_back(std::move(e));
                  return used;
                }));
}

}  // namespace causeway
