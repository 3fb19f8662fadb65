// The data subject commands (engine/aggregates/subject.h). The target
// (CommandContext::target) is the user id; api/gdpr_routes.cpp drives them.
#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "events/codec.h"
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
    Plan plan;
    plan.stream = stream;
    plan.expected = loaded->version;
    plan.status = 200;
    settle<SubjectAggregate>(plan, state, std::move(d).value(), now);
    plan.reply["user_id"] = user_id;
    plan.reply["hold_active"] = state.hold_active;
    plan.reply["erasure_requested"] = state.erasure_requested;
    plan.reply["forgotten"] = state.forgotten;
    return plan;
  };
  return h;
}

// The plan of dsr.extend / dsr.close: the target is the request id.
using DsrDecide = std::function<Result<Decision>(const dsr::State&, const std::string& request_id,
                                                 const json::object& body)>;

CommandHandler dsr_handler(DsrDecide decide) {
  CommandHandler h;
  h.plan = [decide = std::move(decide)](const json::object& body, const CommandContext& ctx, std::int64_t now,
                                        CommandPipeline& pipe) -> Result<Plan> {
    const std::string& request_id = ctx.target;
    if (request_id.rfind("dsr-", 0) != 0) return Error::not_found("no such data subject request");
    auto loaded = pipe.aggregates().load<DsrAggregate>(request_id);
    if (!loaded) return std::move(loaded).error();
    auto d = decide(loaded->state, request_id, body);
    if (!d) return std::move(d).error();
    dsr::State state = loaded->state;
    Plan plan;
    plan.stream = request_id;
    plan.expected = loaded->version;
    plan.status = 200;
    settle<DsrAggregate>(plan, state, std::move(d).value(), now);
    plan.reply["request_id"] = request_id;
    plan.reply["due_at"] = rfc3339_us(state.due_at_us);
    plan.reply["extended"] = state.extended;
    plan.reply["status"] = state.closed ? "closed" : "open";
    return plan;
  };
  return h;
}

std::int64_t json_i64(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return 0;
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

  CommandHandler open;
  open.plan = [](const json::object& body, const CommandContext&, std::int64_t now,
                 CommandPipeline& pipe) -> Result<Plan> {
    const std::string subject = json_string(body, "subject");
    const std::string request_id = new_id_near("dsr", now, pipe.log(), subject);
    auto user = pipe.aggregates().load<UserAggregate>(subject);
    if (!user) return std::move(user).error();
    auto d = dsr::decide_open(request_id, subject, user->state.exists, json_string(body, "kind"), now);
    if (!d) return std::move(d).error();
    dsr::State state;
    Plan plan;
    plan.stream = request_id;
    settle<DsrAggregate>(plan, state, std::move(d).value(), now);
    plan.reply["request_id"] = request_id;
    plan.reply["due_at"] = rfc3339_us(state.due_at_us);
    return plan;
  };
  p.add_command("dsr.open", std::move(open));
  p.add_command("dsr.extend", dsr_handler([](const dsr::State& s, const std::string& id, const json::object& body) {
                  return dsr::decide_extend(s, id, json_i64(body, "days"), json_string(body, "reason"));
                }));
  p.add_command("dsr.close", dsr_handler([](const dsr::State& s, const std::string& id, const json::object& body) {
                  return dsr::decide_close(s, id, json_string(body, "outcome"), json_string(body, "reason"));
                }));
}

}  // namespace causeway
