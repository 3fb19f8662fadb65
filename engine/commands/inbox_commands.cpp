// notification.mark_read and notification.mark_all_read
// (engine/aggregates/inbox.h). The target is the user id; the routes
// (api/inbox_routes.cpp) check the session and find the notification.
#include "engine/commands/traits.h"
#include "engine/pipeline.h"
#include "events/position.h"

namespace causeway {
namespace json = boost::json;

namespace {
std::uint64_t position_field(const json::object& body, const char* key) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, int_field(body, key)));
}

CommandHandler on_inbox(std::function<Result<Decision>(const inbox::State&, const std::string& user,
                                                       const json::object& body)>
                            decide) {
  CommandHandler h;
  h.plan = [decide = std::move(decide)](const json::object& body, const CommandContext& ctx, std::int64_t now,
                                        CommandPipeline& pipe) -> Result<Plan> {
    if (auto st = require_existing<UserAggregate>(pipe, ctx.target, "no such user"); !st) return std::move(st).error();
    return plan_on<InboxAggregate>(
        pipe, inbox::stream_of(ctx.target), now, [&](const inbox::State& s) { return decide(s, ctx.target, body); },
        [&](Plan& p, const inbox::State& after) {
          PositionToken through{std::vector<std::uint64_t>(pipe.log().partitions(), 0)};
          for (std::uint32_t i = 0; i < through.offsets.size(); ++i) through.offsets[i] = after.through(i);
          p.reply["user_id"] = ctx.target;
          p.reply["read_through"] = through.str();
        });
  };
  return h;
}
}  // namespace

void register_inbox_commands(CommandPipeline& p) {
  p.add_command("notification.mark_read",
                on_inbox([](const inbox::State& s, const std::string& user, const json::object& body) {
                  return inbox::decide_read(s, user, json_string(body, "notification_id"),
                                            static_cast<std::uint32_t>(position_field(body, "partition")),
                                            position_field(body, "position"));
                }));
  p.add_command("notification.mark_all_read",
                on_inbox([](const inbox::State& s, const std::string& user,
                            const json::object& body) -> Result<Decision> {
                  auto through = PositionToken::parse(json_string(body, "through"));
                  if (!through) return Error::invalid(through.error().message, "/through");
                  return inbox::decide_read_all(s, user, through->offsets);
                }));
}

}  // namespace causeway
