#include "projections/runtime.h"

#include <filesystem>
#include <fmt/format.h>

#include "projections/batch_applier.h"
#include "projections/generation_builder.h"
#include "projections/view_set.h"

namespace causeway {

ProjectionRuntime::ProjectionRuntime(EventLog& log, const Upcaster& upcaster, Options opts)
    : log_(log), upcaster_(upcaster), opts_(std::move(opts)), files_(opts_.data_dir) {}

Result<std::unique_ptr<ProjectionRuntime>> ProjectionRuntime::open(EventLog& log, const Upcaster& upcaster,
                                                                   Options opts) {
  std::unique_ptr<ProjectionRuntime> rt(new ProjectionRuntime(log, upcaster, std::move(opts)));
  if (auto st = rt->files_.lock_writer(); !st) return std::move(st).error();
  auto current = rt->files_.current();
  std::string path;
  if (current) {
    path = *current;
  } else if (current.error().code == Errc::not_found) {
    auto fresh = rt->files_.create_generation();
    if (!fresh) return std::move(fresh).error();
    path = *fresh;
  } else {
    return std::move(current).error();
  }
  auto vs = open_serving(path, log.partitions());
  if (!vs) return std::move(vs).error();
  if (!current)
    if (auto st = rt->files_.publish(path); !st) return std::move(st).error();
  rt->files_.remove_others({path});
  rt->live_ = std::move(vs).value();
  return rt;
}

ProjectionRuntime::~ProjectionRuntime() { stop(); }

void ProjectionRuntime::start() {
  std::vector<std::string> frozen;
  for (std::size_t i = 0; i < live_->projections.size(); ++i)
    if (live_->tracks[i].state == ProjectionTrack::State::frozen) frozen.push_back(live_->projections[i]->name());
  worker_ = std::thread([this] { run(); });
  if (!frozen.empty()) (void)request_rebuild(frozen);
}

void ProjectionRuntime::stop() {
  stop_ = true;
  {
    std::lock_guard r(rebuilder_mu_);
    if (rebuilder_.joinable()) rebuilder_.join();
  }
  if (worker_.joinable()) worker_.join();
  // Waiters may own I/O objects (read-your-writes timers) of an io_context that
  // is destroyed before this runtime: drop them now, while it still exists.
  std::lock_guard lk(mu_);
  waiters_.clear();
  observer_ = nullptr;
}

void ProjectionRuntime::run() {
  while (!stop_) {
    bool pending = false;
    {
      std::lock_guard lk(mu_);
      pending = pending_ != nullptr;
    }
    if (pending) switch_to_pending();
    const auto began = std::chrono::steady_clock::now();
    const std::size_t applied = step_once();
    if (applied >= opts_.gather_from && applied < opts_.batch && opts_.gather.count() > 0) {
      std::this_thread::sleep_until(began + opts_.gather);
    } else if (applied == 0) {
      // Sleep until some partition moves past what the live set has read.
      PositionToken seen;
      bool running = false;
      for (std::uint32_t p = 0; p < log_.partitions(); ++p) {
        const std::uint64_t next = live_->next_position(p);
        running = running || next != 0;
        seen.offsets.push_back(next == 0 ? UINT64_MAX : next - 1);
      }
      if (!running) {
        std::this_thread::sleep_for(opts_.poll);  // nothing running: only a rebuild can change that
      } else {
        log_.wait_moved(seen, opts_.poll);
      }
    }
  }
}

// One batch per partition; returns the largest.
std::size_t ProjectionRuntime::step_once() {
  std::size_t largest = 0;
  for (std::uint32_t p = 0; p < log_.partitions(); ++p) {
    std::uint64_t from = live_->next_position(p);
    if (from == 0) continue;
    auto events = log_.read_forward(p, from, opts_.batch, HashCheck::trust);
    Status st = events ? apply_batch(*live_, p, *events, upcaster_, &mu_) : Status(std::move(events).error());
    if (!st) {
      std::lock_guard lk(mu_);
      last_error_ = st.error().message;
      continue;
    }
    if (events->empty()) continue;
    largest = std::max(largest, events->size());
    const std::int64_t now = (opts_.clock ? *opts_.clock : system_clock_).now_us();
    Observer observer;
    {
      std::lock_guard lk(mu_);
      last_error_.clear();
      observer = observer_;
    }
    if (observer) observer(p, *events, now);
  }
  if (largest > 0) wake_waiters();
  return largest;
}

void ProjectionRuntime::switch_to_pending() {
  std::unique_ptr<ViewSet> next;
  {
    std::lock_guard lk(mu_);
    next = std::move(pending_);
  }
  Status st = replay_to(log_, upcaster_, *next, log_.head(), opts_.batch, nullptr, &stop_);
  if (st) st = seal_generation(*next);
  if (st) st = files_.publish(next->path);
  if (!st) {
    std::lock_guard lk(mu_);
    last_error_ = "rebuild not published: " + st.error().message;
    rebuilding_.clear();
    std::error_code ec;
    std::filesystem::remove(next->path, ec);
    return;
  }
  std::unique_ptr<ViewSet> old;
  {
    std::lock_guard lk(mu_);
    old = std::move(live_);
    live_ = std::move(next);
    rebuilding_.clear();
  }
  // The replaced generation stays on disk until the next switch or start:
  // SQLite refuses new statements on a connection whose file was unlinked, and
  // readers may still hold one.
  const std::string replaced = old->path;
  old.reset();
  files_.remove_others({live_->path, replaced});
  wake_waiters();
}

void ProjectionRuntime::rebuild_main(std::set<std::string> names) {
  std::string live_path;
  {
    std::lock_guard lk(mu_);
    live_path = live_->path;
  }
  auto path = build_generation(log_, upcaster_, files_, live_path, names, nullptr, &stop_);
  Result<std::unique_ptr<ViewSet>> vs = path ? open_serving(*path, log_.partitions())
                                             : Result<std::unique_ptr<ViewSet>>(std::move(path).error());
  std::lock_guard lk(mu_);
  if (!vs) {
    last_error_ = "rebuild failed: " + vs.error().message;
    rebuilding_.clear();
    return;
  }
  pending_ = std::move(vs).value();
}

Status ProjectionRuntime::request_rebuild(std::vector<std::string> names) {
  std::set<std::string> wanted;
  {
    std::lock_guard lk(mu_);
    if (!rebuilding_.empty() || pending_) return Error::conflict("a rebuild is already running");
    for (const auto& n : names) {
      if (live_->index_of(n) < 0) return Error::not_found(fmt::format("no projection named {}", n));
      wanted.insert(n);
    }
    if (wanted.empty())
      for (const auto& p : live_->projections) wanted.insert(p->name());
    rebuilding_ = wanted;
  }
  std::lock_guard r(rebuilder_mu_);
  if (stop_) {
    std::lock_guard lk(mu_);
    rebuilding_.clear();
    return Error::unavailable("the views are stopping");
  }
  if (rebuilder_.joinable()) rebuilder_.join();  // a finished rebuild's thread
  rebuilder_ = std::thread([this, wanted] { rebuild_main(wanted); });
  return ok_status();
}

bool ProjectionRuntime::rebuilding() const {
  std::lock_guard lk(mu_);
  return !rebuilding_.empty() || pending_ != nullptr;
}

std::string ProjectionRuntime::last_error() const {
  std::lock_guard lk(mu_);
  return last_error_;
}

PositionToken ProjectionRuntime::applied(const std::string& projection) const {
  std::lock_guard lk(mu_);
  PositionToken out;
  out.offsets.assign(log_.partitions(), UINT64_MAX);
  for (std::size_t i = 0; i < live_->projections.size(); ++i) {
    if (!projection.empty() && live_->projections[i]->name() != projection) continue;
    for (std::size_t p = 0; p < out.offsets.size(); ++p)
      out.offsets[p] = std::min(out.offsets[p], live_->tracks[i].checkpoint[p]);
  }
  for (auto& o : out.offsets)
    if (o == UINT64_MAX) o = 0;
  return out;
}

bool ProjectionRuntime::knows(const std::string& projection) const {
  std::lock_guard lk(mu_);
  return live_->index_of(projection) >= 0;
}

std::string ProjectionRuntime::failure(const std::string& projection) const {
  std::lock_guard lk(mu_);
  for (std::size_t i = 0; i < live_->projections.size(); ++i)
    if ((projection.empty() || live_->projections[i]->name() == projection) && !live_->tracks[i].error.empty())
      return live_->tracks[i].error;
  return {};
}

std::vector<ProjectionStatus> ProjectionRuntime::status() const {
  const std::int64_t now = (opts_.clock ? *opts_.clock : system_clock_).now_us();
  std::vector<ProjectionStatus> out;
  {
    std::lock_guard lk(mu_);
    for (std::size_t i = 0; i < live_->projections.size(); ++i)
      out.push_back(status_of(*live_->projections[i], live_->tracks[i],
                              rebuilding_.contains(live_->projections[i]->name())));
  }
  add_lag(log_, now, out);
  return out;
}

void ProjectionRuntime::observe(Observer o) {
  std::lock_guard lk(mu_);
  observer_ = std::move(o);
}

void ProjectionRuntime::notify_once(std::function<void()> wake) {
  std::lock_guard lk(mu_);
  waiters_.push_back(std::move(wake));
}

void ProjectionRuntime::wake_waiters() {
  std::vector<std::function<void()>> w;
  {
    std::lock_guard lk(mu_);
    w.swap(waiters_);
  }
  for (auto& f : w) f();
}

}  // namespace causeway
