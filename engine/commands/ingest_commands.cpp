// event.ingest (POST /v1/events): a batch of one organization's own events,
// recorded as event.ingested on a new stream "ingest-<32 hex>" (tenant: the
// organization; target: the organization id). Each event id is reserved
// ("ingest:<org>:<event id>"), so a repeat — in the batch or of an earlier
// one — is reported as a duplicate and recorded once. The payload is personal
// data, sealed under the event's `subject` (a user id) or else the
// organization's key.
//
// The reply says per event what it does (register_ingest_commands' report):
// the runs it starts, the workflows it triggers but cannot start (the payload
// does not fit their declared input: such a run is recorded as failed by the
// dispatcher, run.trigger_failed) and how many runs wait for it.
#include <set>
#include <vector>

#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "engine/pipeline.h"

namespace causeway {
namespace json = boost::json;

namespace {

std::string correlation_of(const json::object& e) {
  std::string c = json_string(e, "correlation");
  if (c.empty())
    if (auto* p = e.if_contains("payload"); p && p->is_object()) c = json_string(p->as_object(), "correlation");
  return c;
}

// The reply's "events": one entry per event of the batch, in order — a
// duplicate says so; an accepted one has its position and what it does.
void finish_with_report(Plan& plan, const json::array& batch, std::vector<bool> accepted, const std::string& org,
                        std::uint32_t partition, std::int64_t now, const IngestReport& report) {
  plan.finish_reply = [batch, accepted = std::move(accepted), org, partition, now, report](json::object& reply,
                                                                                          const Committed& done) {
    json::array entries;
    std::size_t next = 0;  // index into done.positions: accepted events only
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& e = batch[i].as_object();
      json::object entry{{"event_id", e.at("event_id")}};
      if (!accepted[i] || next >= done.positions.size()) {
        entry["duplicate"] = true;
      } else {
        const std::uint64_t position = done.positions[next++];
        entry["position"] = std::to_string(position);
        if (report) {
          const json::object* payload = e.at("payload").if_object();
          json::object what = report(org, json_string(e, "event_type"), payload ? *payload : json::object(),
                                     correlation_of(e), partition, position, now);
          for (auto& [k, v] : what) entry[k] = std::move(v);
        }
      }
      entries.push_back(std::move(entry));
    }
    reply["events"] = std::move(entries);
  };
}

}  // namespace

void register_ingest_commands(CommandPipeline& p, IngestReport report) {
  CommandHandler h;
  h.plan = [report](const json::object& body, const CommandContext& ctx, std::int64_t now,
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
    std::vector<bool> accepted(events.size(), false);
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
      accepted[i] = true;
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
    finish_with_report(plan, events, std::move(accepted), ctx.target, pipe.log().partition_of(plan.stream), now,
                       report);
    return plan;
  };
  p.add_command("event.ingest", std::move(h));
}

}  // namespace causeway
