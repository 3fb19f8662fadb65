#include "engine/retention/sweeper.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <map>
#include <optional>
#include <set>

#include "engine/commands/traits.h"
#include "engine/retention/buckets.h"

namespace causeway::retention {
namespace json = boost::json;
namespace asio = boost::asio;

namespace {

constexpr std::int64_t kSlackUs = 3600LL * 1'000'000;  // recorded_at may trail occurred_at a little

// The first position of `partition` whose event was recorded at or after `t`.
Result<std::uint64_t> first_at_or_after(EventLog& log, std::uint32_t partition, std::uint64_t head, std::int64_t t) {
  std::uint64_t lo = 1, hi = head + 1;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    auto e = log.read_forward(partition, mid, 1);
    if (!e) return std::move(e).error();
    if (e->empty() || e->front().recorded_at_us >= t)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

// bucket id -> subjects with a field sealed under it, for the buckets of `day`.
Result<std::map<std::string, std::set<std::string>>> subjects_of_day(EventLog& log, std::int32_t day,
                                                                     std::uint64_t& scanned) {
  std::map<std::string, std::set<std::string>> out;
  const std::string marker = "\"ret\":\"ret~" + date_of(day) + "~";
  const std::int64_t from = day * kDayUs - kSlackUs, to = (day + 1) * kDayUs + kSlackUs;
  const PositionToken head = log.head();
  for (std::uint32_t p = 0; p < log.partitions(); ++p) {
    const std::uint64_t last = p < head.offsets.size() ? head.offsets[p] : 0;
    auto pos = first_at_or_after(log, p, last, from);
    if (!pos) return std::move(pos).error();
    for (std::uint64_t at = *pos; at <= last;) {
      auto batch = log.read_forward(p, at, 512);
      if (!batch) return std::move(batch).error();
      if (batch->empty()) break;
      for (const auto& e : *batch) {
        if (e.recorded_at_us >= to) {
          at = last + 1;
          break;
        }
        ++scanned;
        at = e.position + 1;
        if (e.data.find(marker) == std::string::npos) continue;
        boost::system::error_code ec;
        auto v = json::parse(e.data, ec);
        if (ec || !v.is_object()) return Error::corruption("an event payload is not a JSON object");
        for (const auto& kv : v.as_object()) {
          if (!is_sealed(kv.value())) continue;
          const auto& o = kv.value().as_object();
          auto* ret = o.if_contains("ret");
          if (ret && ret->is_string()) out[std::string(ret->as_string())].insert(std::string(o.at("sub").as_string()));
        }
      }
    }
  }
  return out;
}

}  // namespace

RetentionSweeper::RetentionSweeper(CommandPipeline& pipeline, EventLog& log, KeyVault& vault,
                                   std::function<Status()> purge_keys, Options opts)
    : pipeline_(pipeline), log_(log), vault_(vault), purge_keys_(std::move(purge_keys)), opts_(opts) {}

RetentionSweeper::~RetentionSweeper() { stop(); }

void RetentionSweeper::start() {
  if (opts_.every.count() == 0 || thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void RetentionSweeper::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionSweeper::run() {
  std::unique_lock lk(mu_);
  while (!cv_.wait_for(lk, opts_.every, [this] { return stop_; })) {
    lk.unlock();
    // A failed sweep changes nothing it did not record; the next one retries.
    if (auto done = sweep_now(); !done && opts_.on_failure) opts_.on_failure(done.error());
    lk.lock();
  }
}

Result<CommandOutcome> RetentionSweeper::execute(const std::string& command, json::object body,
                                                 const std::string& scope) {
  // The pipeline is asynchronous; this thread drives its own io_context.
  asio::io_context io;
  CommandContext ctx;
  ctx.actor = Actor{"system:retention", {}};
  ctx.request_id = "retention-sweep";
  ctx.target = scope;
  std::optional<Result<CommandOutcome>> out;
  auto drive = [](CommandPipeline& p, std::string name, json::value b, CommandContext c,
                  std::optional<Result<CommandOutcome>>& result) -> asio::awaitable<void> {
    result.emplace(co_await p.execute(std::move(name), std::move(b), std::move(c)));
  };
  asio::co_spawn(io, drive(pipeline_, command, json::value(std::move(body)), std::move(ctx), out), asio::detached);
  io.run();
  if (!out) return Error::unavailable("the retention command did not complete");
  return std::move(*out);
}

Result<SweepReport> RetentionSweeper::sweep_now() {
  std::lock_guard sweep(sweep_mu_);
  SweepReport report;
  report.ran_at_us = pipeline_.clock().now_us();
  const std::int32_t today = day_of(report.ran_at_us);
  auto ids = vault_.buckets_before(bucket_id(Bucket{today, "", ""}).substr(0, 14));  // "ret~yyyy-mm-dd"
  if (!ids) return std::move(ids).error();
  report.buckets_seen = ids->size();

  std::map<std::string, retention::State> policies;  // scope -> state, loaded once per sweep
  auto policy_of = [&](const std::string& scope) -> Result<const retention::State*> {
    auto it = policies.find(scope);
    if (it == policies.end()) {
      auto loaded = pipeline_.aggregates().load<RetentionAggregate>(stream_of(scope));
      if (!loaded) return std::move(loaded).error();
      it = policies.emplace(scope, loaded->state).first;
    }
    return &it->second;
  };

  struct Due {
    Bucket bucket;
    std::string id;
    std::int64_t max_age_days;
    const char* policy;
  };
  std::vector<Due> due;
  for (const auto& id : *ids) {
    auto b = parse_bucket(id);
    if (!b) continue;  // not a bucket this version knows: keep it
    auto own = policy_of(scope_of(*b));
    if (!own) return std::move(own).error();
    auto all = policy_of("all");
    if (!all) return std::move(all).error();
    auto applicable = policy_for(**own, **all, *b);
    if (!applicable || (b->day + 1 + applicable->max_age_days) * kDayUs > report.ran_at_us) {
      ++report.kept;
      continue;
    }
    due.push_back({*b, id, applicable->max_age_days, applicable->policy});
  }

  std::map<std::int32_t, std::map<std::string, std::set<std::string>>> subjects;  // day -> bucket -> subjects
  std::map<std::string, bool> held_subject;
  bool destroyed = false;
  for (const auto& d : due) {
    auto day = subjects.find(d.bucket.day);
    if (day == subjects.end()) {
      auto s = subjects_of_day(log_, d.bucket.day, report.events_scanned);
      if (!s) return std::move(s).error();
      day = subjects.emplace(d.bucket.day, std::move(s).value()).first;
    }
    bool held = false;
    if (auto it = day->second.find(d.id); it != day->second.end()) {
      for (const auto& user : it->second) {
        auto h = held_subject.find(user);
        if (h == held_subject.end()) {
          auto s = pipeline_.aggregates().load<SubjectAggregate>(subject::stream_of(user));
          if (!s) return std::move(s).error();
          h = held_subject.emplace(user, s->state.hold_active).first;
        }
        held = held || h->second;
      }
    }
    if (held) {
      report.held.push_back(d.id);
      continue;
    }
    json::object body{{"category", d.bucket.category},
                      {"day", date_of(d.bucket.day)},
                      {"max_age_days", d.max_age_days},
                      {"policy", d.policy}};
    auto out = execute("retention.enforce", std::move(body), scope_of(d.bucket));
    if (!out) return std::move(out).error();
    if (auto st = vault_.destroy_bucket(d.id); !st) return std::move(st).error();
    destroyed = true;
    report.enforced.push_back(d.id);
  }
  if (destroyed && purge_keys_)
    if (auto st = purge_keys_(); !st) return std::move(st).error();
  return report;
}

}  // namespace causeway::retention
