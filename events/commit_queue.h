// CommitQueue: the queue between EventLog::append() and a log's writer thread.
//
// push() queues a commit in arrival order, or — once close() was called —
// answers its `done` at once with Errc::unavailable. The writer calls
// next_group() in a loop: it blocks until something is queued and returns up
// to `max_group` commits in order; after close() it returns what is still
// queued, then an empty group, which tells the writer to stop.
//
// Threading: push() and close() from any thread; next_group() from the one
// writer thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "events/event_log.h"

namespace causeway {

class CommitQueue {
 public:
  struct Pending {
    Commit commit;
    AppendDone done;
  };

  explicit CommitQueue(std::size_t max_group) : max_group_(max_group) {}

  void push(Commit commit, AppendDone done) {
    {
      std::lock_guard lk(mu_);
      if (!closing_) {
        queue_.push_back(Pending{std::move(commit), std::move(done)});
        cv_.notify_one();
        return;
      }
    }
    done(Error::unavailable("the log is closed"));
  }

  std::vector<Pending> next_group() {
    std::vector<Pending> group;
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return !queue_.empty() || closing_; });
    while (!queue_.empty() && group.size() < max_group_) {
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return group;
  }

  void close() {
    {
      std::lock_guard lk(mu_);
      closing_ = true;
    }
    cv_.notify_all();
  }

 private:
  const std::size_t max_group_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool closing_ = false;
};

}  // namespace causeway
