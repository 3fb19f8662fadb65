// The workflow start-up index: each event counted once in log order, whoever
// reads it, and saved and restored for a log of the same partitions only.
#include <doctest/doctest.h>

#include "engine/workflow/startup_index.h"

using namespace causeway;
using causeway::workflow::StartupIndex;

TEST_CASE("the start-up index counts each event once: a run that ended stays ended when its start is read again, "
          "and the latest publication stays the latest") {
  StartupIndex idx;
  idx.next.assign(2, 1);
  idx.observe("workflow.published", "workflow-a", "org-1", {1, 3});
  idx.observe("run.started", "run-1", "org-1", {1, 4});
  idx.observe("workflow.published", "workflow-a", "org-1", {1, 6});
  idx.observe("run.completed", "run-1", "org-1", {1, 7});
  idx.observe("subscription.started", "subscription-org-1", "org-1", {1, 8});
  idx.observe("run.started", "run-2", "org-2", {0, 2});
  // A follower behind the index reads the same events again: nothing changes.
  idx.observe("workflow.published", "workflow-a", "org-1", {1, 3});
  idx.observe("run.started", "run-1", "org-1", {1, 4});
  CHECK(idx.live_runs == std::set<std::string>{"run-2"});
  CHECK(idx.published.at("workflow-a") == LogAddress{1, 6});
  CHECK(idx.subscribed == std::set<std::string>{"org-1"});
  CHECK(idx.next == std::vector<std::uint64_t>{3, 9});
  idx.advance(0, 40);  // events the index does not want, read up to 39
  idx.advance(0, 10);  // never backwards
  CHECK(idx.next == std::vector<std::uint64_t>{40, 9});
  idx.observe("workflow.archived", "workflow-a", "org-1", {1, 9});
  CHECK(idx.published.empty());
}

TEST_CASE("a saved start-up index reads back only for a log of the same partition count") {
  StartupIndex idx;
  idx.next = {5, 7, 1};
  idx.live_runs = {"run-1"};
  idx.published["workflow-a"] = LogAddress{2, 4};
  idx.subscribed = {"org-1"};
  auto back = StartupIndex::from_json(idx.to_json(), 3);
  REQUIRE(back.has_value());
  CHECK(back->next == idx.next);
  CHECK(back->live_runs == idx.live_runs);
  CHECK(back->published == idx.published);
  CHECK(back->subscribed == idx.subscribed);
  CHECK_FALSE(StartupIndex::from_json(idx.to_json(), 1).has_value());
  CHECK_FALSE(StartupIndex::from_json(boost::json::value("no"), 3).has_value());
}
