#include "engine/audit/checkpointer.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <future>

#include "engine/ids.h"

namespace causeway::audit {

Checkpointer::Checkpointer(EventLog& log, const Signer& signer, const Clock& clock, Options opts)
    : log_(log),
      signer_(signer),
      clock_(clock),
      opts_(opts),
      covered_(log.partitions(), 0),
      own_(log.partitions(), 0),
      last_(log.partitions()) {}

Checkpointer::~Checkpointer() { stop(); }

void Checkpointer::start() {
  {
    std::lock_guard lk(mu_);
    last_at_us_ = clock_.now_us();
  }
  thread_ = std::thread([this] { run(); });
}

void Checkpointer::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Result<std::vector<Checkpoint>> Checkpointer::checkpoint_now() {
  std::lock_guard lk(mu_);
  const auto head = log_.head();
  for (std::uint32_t p = 0; p < log_.partitions(); ++p) {
    const std::uint64_t at = head.offsets[p];
    if (at == 0 || at <= own_[p] || at <= covered_[p]) continue;  // nothing new but our own checkpoint
    auto entry = log_.read_forward(p, at, 1, HashCheck::verify);
    if (!entry) return std::move(entry).error();
    if (entry->empty()) return Error::unavailable("the log head is not readable");
    Checkpoint c;
    c.partition = p;
    c.position = at;
    c.chain_hash = entry->front().hash;
    c.public_key = signer_.public_key();
    c.signature = signer_.sign(p, at, c.chain_hash);

    const std::int64_t now = clock_.now_us();
    NewEvent e;
    e.stream = checkpoint_stream(p, log_.partitions());
    e.id = new_id(now);
    e.type = kCheckpointType;
    e.occurred_at_us = now;
    e.actor = Actor{"system:audit", {}};
    e.causation_id = e.id;
    e.correlation_id = e.id;
    e.data = boost::json::serialize(to_json(c));
    Commit commit;
    commit.events.push_back(std::move(e));
    std::promise<Result<Committed>> done;
    auto f = done.get_future();
    log_.append(std::move(commit), [&done](Result<Committed> r) { done.set_value(std::move(r)); });
    auto r = f.get();
    if (!r) return std::move(r).error();
    covered_[p] = at;
    own_[p] = r->positions.back();
    last_[p] = c;
    last_at_us_ = now;
  }
  return last_;
}

Result<std::vector<Checkpoint>> Checkpointer::latest_stored() const {
  std::vector<Checkpoint> out;
  for (std::uint32_t p = 0; p < log_.partitions(); ++p) {
    const std::string stream = checkpoint_stream(p, log_.partitions());
    auto version = log_.stream_version(stream);
    if (!version) return std::move(version).error();
    if (*version == 0) return Error::conflict(fmt::format("partition {} holds no signed checkpoint yet", p));
    auto events = log_.read_stream(stream, *version, 1);
    if (!events) return std::move(events).error();
    if (events->empty()) return Error::corruption(fmt::format("the checkpoint stream {} ends before its version", stream));
    boost::system::error_code ec;
    auto data = boost::json::parse(events->front().data, ec);
    if (ec || !data.is_object()) return Error::corruption(fmt::format("a checkpoint of {} is not JSON", stream));
    auto c = checkpoint_from_json(data.as_object());
    if (!c) return std::move(c).error();
    out.push_back(std::move(c).value());
  }
  return out;
}

void Checkpointer::run() {
  PositionToken seen = log_.head();
  while (!stop_) {
    seen = log_.wait_moved(seen, std::chrono::milliseconds(500));
    bool due = false;
    {
      std::lock_guard lk(mu_);
      const bool time_passed =
          opts_.every.count() && clock_.now_us() - last_at_us_ >= opts_.every.count() * 1'000'000LL;
      for (std::size_t p = 0; p < seen.offsets.size(); ++p) {
        const bool fresh = seen.offsets[p] > own_[p] && seen.offsets[p] > covered_[p];
        const bool by_count = opts_.every_events && seen.offsets[p] >= covered_[p] + opts_.every_events;
        due = due || (fresh && (by_count || time_passed));
      }
    }
    if (due)  // a failure is retried on the next tick
      if (auto made = checkpoint_now(); !made && opts_.on_failure) opts_.on_failure(made.error());
  }
}

}  // namespace causeway::audit
