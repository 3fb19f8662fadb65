#include "projections/batch_applier.h"

#include <boost/json/parse.hpp>
#include <fmt/format.h>
#include <optional>

namespace causeway {

namespace {

struct Parsed {
  boost::json::object data;
  std::optional<Error> error;
};

std::vector<Parsed> parse_batch(const std::vector<Event>& events, const Upcaster& upcaster) {
  std::vector<Parsed> out(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    boost::system::error_code ec;
    auto v = boost::json::parse(events[i].data, ec);
    if (ec || !v.is_object()) {
      out[i].error = Error::corruption("the payload is not a JSON object");
      continue;
    }
    out[i].data = std::move(v.as_object());
    if (auto r = upcaster.upcast(events[i].type, events[i].schema_version, out[i].data); !r)
      out[i].error = std::move(r).error();
  }
  return out;
}

}  // namespace

Status apply_batch(ViewSet& vs, std::uint32_t partition, const std::vector<Event>& events, const Upcaster& upcaster,
                   std::mutex* publish_mu) {
  if (events.empty()) return ok_status();
  const auto parsed = parse_batch(events, upcaster);
  std::vector<ProjectionTrack> next = vs.tracks;
  auto txn = sql::Txn::begin(*vs.db);
  if (!txn) return std::move(txn).error();
  const std::uint64_t last = events.back().position;
  for (std::size_t i = 0; i < vs.projections.size(); ++i) {
    auto& t = next[i];
    if (t.state != ProjectionTrack::State::running || t.checkpoint[partition] >= last) continue;
    auto& proj = *vs.projections[i];
    proj.discard();  // anything left from a batch that failed before its flush
    if (auto st = vs.db->exec("SAVEPOINT apply"); !st) return st;
    // Applies events [0, end) past the checkpoint; returns the index that failed, or end.
    auto apply_range = [&](std::size_t end, Status& why) {
      for (std::size_t k = 0; k < end; ++k) {
        const Event& e = events[k];
        if (e.position <= t.checkpoint[partition] || !proj.consumes(e.type)) continue;
        why = parsed[k].error ? Status(*parsed[k].error) : proj.apply(e, parsed[k].data);
        if (!why) return k;
      }
      return end;
    };
    Status why = ok_status();
    std::size_t bad = apply_range(events.size(), why);
    if (bad == events.size())
      if (auto st = proj.flush(); !st) return st;
    std::uint64_t reached = last;
    if (bad < events.size()) {
      // Undo the whole part, then redo the events before the poison one, so the
      // projection stops exactly there and its checkpoint says so.
      const Event& e = events[bad];
      proj.discard();
      if (auto rb = vs.db->exec("ROLLBACK TO apply"); !rb) return rb;
      Status again = ok_status();
      if (apply_range(bad, again) != bad) return again;
      if (auto st = proj.flush(); !st) return st;
      t.state = ProjectionTrack::State::failed;
      t.error_position = e.position;
      t.error = fmt::format("projection {} stopped at position {} (event {}, type {} v{}): {}", proj.name(),
                            e.position, e.id, e.type, e.schema_version, why.error().message);
      if (auto s = vs.save_failure.bind_all(t.error, e.position, proj.name()).run(); !s) return s;
      reached = e.position - 1;
    }
    if (reached > t.checkpoint[partition]) {
      if (auto st = vs.save_checkpoint.bind_all(proj.name(), static_cast<std::int64_t>(partition), reached).run(); !st)
        return st;
      t.checkpoint[partition] = reached;
    }
    if (auto st = vs.db->exec("RELEASE apply"); !st) return st;
  }
  if (auto st = txn->commit(); !st) return st;
  if (publish_mu) {
    std::lock_guard lk(*publish_mu);
    vs.tracks = std::move(next);
  } else {
    vs.tracks = std::move(next);
  }
  return ok_status();
}

Status replay_to(EventLog& log, const Upcaster& upcaster, ViewSet& vs, const PositionToken& until,
                 std::size_t batch, const ProgressFn& progress, const std::atomic<bool>* stop) {
  std::uint64_t total = 0, before = 0;  // before: the positions of the partitions already replayed
  for (auto o : until.offsets) total += o;
  for (std::uint32_t p = 0; p < until.offsets.size(); before += until.offsets[p], ++p) {
    for (;;) {
      if (stop && stop->load()) return Error::unavailable("stopped");
      std::uint64_t from = vs.next_position(p);
      if (from == 0 || from > until.offsets[p]) break;
      auto events = log.read_forward(p, from, batch, HashCheck::trust);
      if (!events) return std::move(events).error();
      if (events->empty()) break;
      if (auto st = apply_batch(vs, p, *events, upcaster); !st) return st;
      if (progress) progress(before + events->back().position, total);
    }
  }
  return ok_status();
}


}  // namespace causeway
