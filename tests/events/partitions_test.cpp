// Placement and what a log with P = 3 adds: commits spanning partitions, one chain per partition.
#include <doctest/doctest.h>

#include <set>

#include "events/log_helpers.h"
#include "events/memory/memory_log.h"
#include "events/placement.h"
#include "engine/ids.h"
#include "engine/verify.h"
#include "events/codec.h"

using namespace causeway;
using namespace causeway::testing;

namespace {
const std::string kOrgHex = "0123456789abcdef0123456789abcdef";
const std::string kUserHex = "fedcba9876543210fedcba9876543210";
}  // namespace

TEST_CASE("an organization's streams share its partition, and a user's streams the user's") {
  for (std::uint32_t parts : {1u, 3u, 7u, 16u}) {
    CAPTURE(parts);
    const auto org = placement_of("org-" + kOrgHex, parts);
    for (const char* prefix : {"subscription-org-", "retention-org-", "audit-reads-org-", "access-denied-org-"})
      CHECK(placement_of(prefix + kOrgHex, parts) == org);
    const auto user = placement_of("user-" + kUserHex, parts);
    for (const char* prefix : {"inbox-user-", "subject-user-"}) CHECK(placement_of(prefix + kUserHex, parts) == user);
    CHECK(placement_of("retention-all", parts) < parts);
  }
  CHECK(placement_key("subscription-org-" + kOrgHex) == kOrgHex);
  CHECK(placement_key("retention-all") == "retention-all");
  // A run of more than 32 hex digits is not an id.
  CHECK(placement_key("x-" + kOrgHex + "a") == "x-" + kOrgHex + "a");
}

TEST_CASE("placement spreads ids over every partition") {
  std::set<std::uint32_t> seen;
  std::uint64_t n = 0;
  auto mint = [&n] {
    char hex[33];
    std::snprintf(hex, sizeof hex, "%032llx", static_cast<unsigned long long>(++n * 2654435761u));
    return "workflow-" + std::string(hex);
  };
  for (int i = 0; i < 60; ++i) seen.insert(placement_of(mint(), 3));
  CHECK(seen == std::set<std::uint32_t>{0, 1, 2});
}

TEST_CASE("with three partitions, a commit spanning them is placed in each, or refused whole") {
  MemoryLogOptions o;
  o.partitions = 3;
  // Stream "p<k>-…" on partition k: the test chooses where each event goes.
  o.placement = [](std::string_view s, std::uint32_t) { return static_cast<std::uint32_t>(s[1] - '0'); };
  MemoryEventLog log(o);
  auto r = append_sync(log, commit_of({event_for("p0-a"), event_for("p2-b"), event_for("p2-c")}));
  REQUIRE(r.ok());
  CHECK(r->positions == std::vector<std::uint64_t>{1, 1, 2});
  CHECK(r->token.str() == "1.0.2");
  CHECK(log.head().str() == "1.0.2");
  auto refused = append_sync(log, commit_of({event_for("p1-x"), event_for("p2-b")}, {{"p2-b", 0}}));
  REQUIRE_FALSE(refused.ok());
  CHECK(log.head().str() == "1.0.2");
  CHECK(log.read_forward(1, 1, 10)->empty());
  auto next = append_sync(log, commit_of({event_for("p1-x")}));
  REQUIRE(next.ok());
  CHECK(next->token.str() == "1.1.2");
  // Each partition's chain starts from the zero hash.
  CHECK((*log.read_forward(1, 1, 1))[0].prev_hash == Hash{});
  CHECK((*log.read_forward(2, 2, 1))[0].prev_hash == (*log.read_forward(2, 1, 1))[0].hash);
}

TEST_CASE("with three partitions, log verification checks each partition's chain against its own head") {
  MemoryLogOptions o;
  o.partitions = 3;
  MemoryEventLog log(o);
  for (int i = 0; i < 30; ++i) REQUIRE(append_sync(log, commit_of({event_for("s-" + std::to_string(i))})).ok());
  const auto head = log.head();
  for (std::uint32_t p = 0; p < 3; ++p) {
    CAPTURE(p);
    REQUIRE(head.offsets[p] > 0);
    auto r = verify_chain(log, p, head.offsets[p], log.chain_head(p), nullptr);
    CAPTURE(r.problem.value_or(""));
    CHECK_FALSE(r.problem);
    CHECK(r.events == head.offsets[p]);
    // Another partition's head hash is not this chain's end.
    auto wrong = verify_chain(log, p, head.offsets[p], log.chain_head((p + 1) % 3), nullptr);
    REQUIRE(wrong.problem);
    CHECK(*wrong.problem == "the stored chain head does not match the last entry");
  }
}

TEST_CASE("ids are drawn, or derived, until they are placed near what they belong to; one partition keeps the "
          "derivation it always had") {
  MemoryEventLog one;
  CHECK(derived_id_near("run", "seed", one, "org-x") == "run-" + blake2b_hex("seed").substr(0, 32));
  MemoryLogOptions o;
  o.partitions = 3;
  MemoryEventLog three(o);
  const std::string org = "org-0123456789abcdef0123456789abcdef";
  for (int i = 0; i < 20; ++i) {
    CHECK(three.partition_of(new_id_near("workflow", 1'700'000'000'000'000, three, org)) == three.partition_of(org));
    const std::string seed = "w@0:" + std::to_string(i);
    const std::string derived = derived_id_near("run", seed, three, org);
    CHECK(three.partition_of(derived) == three.partition_of(org));
    CHECK(derived == derived_id_near("run", seed, three, org));  // the same seed derives the same id
  }
}
