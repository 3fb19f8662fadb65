// The data subject commands (engine/aggregates/subject.h). The target
// (CommandContext::target) is the user id; api/gdpr_routes.cpp drives them.
#include "engine/commands/traits.h"
#include "engine/pipeline.h"

namespace causeway {
namespace json = boost::json;

namespace {

using Decide = std::function<Result<Decision>(const subject::State&, const std::string& user_id, bool user_exists,
                                              const std::string& reason)>;

CommandHandler handler(Decide decide) {
  CommandHandler h;
  h.plan = [decide = std::move(decide)](const json::object& body, const CommandContext& ctx, std::int64_t now,
                                        CommandPipeline& pipe) -> Result<Plan> {
    const std::string& user_id = ctx.target;
    const std::string stream = subject::stream_of(user_id);
    if (stream.empty()) return Error::not_found("no such user");
    auto user = pipe.aggregates().load<UserAggregate>(user_id);
    if (!user) return std::move(user).error();
    auto loaded = pipe.aggregates().load<SubjectAggregate>(stream);
    if (!loaded) return std::move(loaded).error();
    auto d = decide(loaded->state, user_id, user->state.exists, json_string(body, "reason"));
    if (!d) return std::move(d).error();
    subject::State state = loaded->state;
    for (const auto& e : d->events) subject::apply(state, e.type, e.data, now);
    Plan plan;
    plan.stream = stream;
    plan.expected = loaded->version;
    plan.status = 200;
    plan.reply["user_id"] = user_id;
    plan.reply["hold_active"] = state.hold_active;
    plan.reply["erasure_requested"] = state.erasure_requested;
    plan.reply["forgotten"] = state.forgotten;
    plan.decision = std::move(d).value();
    plan.record = {plan.stream, subject::kStateFormat, AggregateStore::encode(state)};
    return plan;
  };
  return h;
}

}  // namespace

void register_subject_commands(CommandPipeline& p) {
  p.add_command("subject.place_hold", handler(subject::decide_place_hold));
  p.add_command("subject.release_hold", handler(subject::decide_release_hold));
  p.add_command("subject.erase", handler(subject::decide_erase));
  p.add_command("subject.complete_erasure",
                handler([](const subject::State& s, const std::string& user_id, bool, const std::string&) {
                  return subject::decide_complete_erasure(s, user_id);
                }));
  p.add_command("subject.export", handler(subject::decide_export));
}

}  // namespace causeway
