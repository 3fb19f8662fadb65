// event.ingest (POST /v1/events): a batch of one organization's own events,
// recorded as event.ingested on a new stream "ingest-<32 hex>" (tenant: the
// organization; target: the organization id). Each event id is reserved
// ("ingest:<org>:<event id>"), so a repeat — in the batch or of an earlier
// one — is reported as a duplicate and recorded once. The payload is personal
// data, sealed under the event's `subject` (a user id) or else the
// organization's key.
#include <set>

#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "engine/pipeline.h"

namespace causeway {
namespace json = boost::json;

void register_ingest_commands(CommandPipeline& p) {
  CommandHandler h;
  h.plan = [](const json::object& body, const CommandContext& ctx, std::int64_t now,
              CommandPipeline& pipe) -> Result<Plan> {
    if (auto st = require_existing<OrganizationAggregate>(pipe, ctx.target, "no such organization"); !st)
      return std::move(st).error();
    Plan plan;
    plan.stream = new_id("ingest", now);
    plan.tenant = ctx.target;
    plan.status = 202;
    std::set<std::string> seen;
    json::array duplicates;
    const auto& events = body.at("events").as_array();
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto& e = events[i].as_object();
      const std::string id = json_string(e, "event_id");
      const std::string key = "ingest:" + ctx.target + ":" + id;
      auto owner = pipe.log().reservation_owner(key);
      if (!owner) return std::move(owner).error();
      if (*owner || !seen.insert(id).second) {
        duplicates.push_back(json::string(id));
        continue;
      }
      if (e.contains("subject"))
        if (auto st = require_existing<UserAggregate>(pipe, user::stream_of(json_string(e, "subject")),
                                                      "no user has this id", "/events/" + std::to_string(i) + "/subject");
            !st)
          return std::move(st).error();
      DraftEvent d;
      d.type = "event.ingested";
      d.data["org_id"] = ctx.target;
      d.data["event_id"] = id;
      d.data["event_type"] = e.at("event_type");
      if (auto* c = e.if_contains("correlation")) d.data["correlation"] = *c;
      d.data["payload"] = e.at("payload");
      d.subjects = {e.contains("subject") ? json_string(e, "subject") : ctx.target};
      plan.decision.events.push_back(std::move(d));
      plan.decision.reservations.push_back({key, plan.stream, "/events/" + std::to_string(i) + "/event_id"});
    }
    // No aggregate record: a batch stream only holds its events (plan.record stays empty).
    plan.reply["accepted"] = static_cast<std::int64_t>(plan.decision.events.size());
    plan.reply["duplicates"] = std::move(duplicates);
    if (plan.decision.events.empty()) plan.status = 200;
    return plan;
  };
  p.add_command("event.ingest", std::move(h));
}

}  // namespace causeway
