// The audit trail: signed checkpoints, exports that verify offline with only
// the public key, and tamper detection that names the first bad position.
#include <doctest/doctest.h>

#include <atomic>
#include <future>

#include <sodium.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <sstream>

#include "engine/audit/checkpointer.h"
#include "engine/audit/export.h"
#include "engine/audit/verify_export.h"
#include "events/log_helpers.h"
#include "events/memory/memory_log.h"
#include "support/mem_key_store.h"
#include "events/rocks/rocks_log.h"
#include "events/rocks/keys.h"

#include <rocksdb/db.h>
#include "support/temp_dir.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;

namespace {

struct ManualClock : Clock {
  std::int64_t now = 1'795'000'000'000'000;
  std::int64_t now_us() const override { return now; }
};

struct AuditHarness {
  TempDir dir;
  std::unique_ptr<RocksEventLog> log;
  std::unique_ptr<KeyVault> vault;
  std::unique_ptr<audit::Signer> signer;
  std::shared_ptr<SchemaRegistry> schemas;
  ManualClock clock;

  AuditHarness() {
    REQUIRE(sodium_init() >= 0);
    RocksLogOptions o;
    o.path = dir / "log";
    auto l = RocksEventLog::open(o);
    REQUIRE(l.ok());
    log = std::move(l).value();
    SecretKey master{};
    master.fill(7);
    vault = std::make_unique<KeyVault>(log->key_store(), master);
    signer = std::make_unique<audit::Signer>(*vault);
    auto s = SchemaRegistry::from_embedded();
    REQUIRE(s.ok());
    schemas = *s;
  }

  void append_events(int n, const std::string& tenant = "org-a") {
    for (int i = 0; i < n; ++i) {
      NewEvent e = event_for(fmt::format("{}-s{}", tenant, i), "test.happened", fmt::format(R"({{"n":{}}})", i));
      e.id = fmt::format("{}-{}-{}", tenant, i, log->head().offsets[0]);
      e.tenant = tenant;
      REQUIRE(append_sync(*log, commit_of({e})).ok());
    }
  }

  // The export as lines, ending under a fresh checkpoint (as the route does).
  std::vector<std::string> export_lines(audit::ExportQuery q = {}) {
    audit::Checkpointer cp(*log, *signer, clock, {});
    auto c = cp.checkpoint_now();
    REQUIRE(c.ok());
    if (q.to == 0) q.to = c->front().position;
    std::vector<std::string> lines;
    auto r = audit::export_audit(*log, vault.get(), *schemas, signer->public_key(), q, [&](std::string_view l) {
      lines.emplace_back(l.substr(0, l.size() - 1));
    });
    REQUIRE(r.ok());
    return lines;
  }
};

audit::AuditReport verify_lines(const std::vector<std::string>& lines, const audit::PublicKey& key) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  std::istringstream in(text);
  return audit::verify_export(in, key);
}

// Index of the line holding the record for `position`.
std::size_t line_of(const std::vector<std::string>& lines, std::uint64_t position) {
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto v = json::parse(lines[i]).as_object();
    if (auto* p = v.if_contains("position"); p && p->to_number<std::uint64_t>() == position) return i;
  }
  FAIL("no such position in the export");
  return 0;
}

}  // namespace

TEST_CASE("an export verifies offline with only the public key, and every event is under a signature") {
  AuditHarness h;
  h.append_events(20);
  auto lines = h.export_lines();
  auto r = verify_lines(lines, h.signer->public_key());
  CAPTURE(r.problem.value_or(""));
  CHECK_FALSE(r.problem);
  CHECK(r.events == 20);
  CHECK(r.checkpoints == 1);
  CHECK(r.signed_to == 20);
}

TEST_CASE("an export does not verify under another key") {
  AuditHarness h;
  h.append_events(3);
  auto lines = h.export_lines();
  audit::PublicKey other = h.signer->public_key();
  other[0] ^= 1;
  auto r = verify_lines(lines, other);
  REQUIRE(r.problem);
  CHECK(r.problem->find("not signed by this key") != std::string::npos);
}

TEST_CASE("one altered byte in a stored entry is detected at its position") {
  AuditHarness h;
  h.append_events(10);
  auto lines = h.export_lines();
  auto i = line_of(lines, 6);
  auto rec = json::parse(lines[i]).as_object();
  std::string entry(rec.at("entry").as_string());
  entry[entry.size() / 2] = entry[entry.size() / 2] == 'A' ? 'B' : 'A';
  rec["entry"] = entry;
  lines[i] = json::serialize(rec);
  auto r = verify_lines(lines, h.signer->public_key());
  REQUIRE(r.problem);
  CHECK(r.problem_position == 6);
}

TEST_CASE("an altered readable field is detected at its position") {
  AuditHarness h;
  h.append_events(10);
  auto lines = h.export_lines();
  auto i = line_of(lines, 4);
  auto pos = lines[i].find(R"("n":3)");
  REQUIRE(pos != std::string::npos);
  lines[i].replace(pos, 5, R"("n":9)");
  auto r = verify_lines(lines, h.signer->public_key());
  REQUIRE(r.problem);
  CHECK(r.problem_position == 4);
}

TEST_CASE("a removed, a reordered and an inserted record are each detected at the first bad position") {
  AuditHarness h;
  h.append_events(10);
  const auto clean = h.export_lines();
  {
    auto lines = clean;
    lines.erase(lines.begin() + static_cast<long>(line_of(lines, 5)));
    auto r = verify_lines(lines, h.signer->public_key());
    REQUIRE(r.problem);
    CHECK(r.problem_position == 5);
  }
  {
    auto lines = clean;
    std::swap(lines[line_of(lines, 3)], lines[line_of(lines, 4)]);
    auto r = verify_lines(lines, h.signer->public_key());
    REQUIRE(r.problem);
    CHECK(r.problem_position == 3);
  }
  {
    auto lines = clean;
    auto at = line_of(lines, 7);
    lines.insert(lines.begin() + static_cast<long>(at), lines[at]);  // a duplicated record
    auto r = verify_lines(lines, h.signer->public_key());
    REQUIRE(r.problem);
    CHECK(r.problem_position == 8);
  }
  {
    // A forged record rebuilt with a consistent hash still breaks the link after it.
    auto lines = clean;
    auto at = line_of(lines, 9);
    auto rec = json::parse(lines[at]).as_object();
    rec["hash"] = std::string(64, 'a');
    lines[at] = json::serialize(rec);
    auto r = verify_lines(lines, h.signer->public_key());
    REQUIRE(r.problem);
    CHECK(r.problem_position == 9);
  }
}

TEST_CASE("a file cut short, or whose last events lost their checkpoint, does not verify") {
  AuditHarness h;
  h.append_events(6);
  auto lines = h.export_lines();
  {
    auto cut = lines;
    cut.resize(cut.size() - 1);  // no end record
    CHECK(verify_lines(cut, h.signer->public_key()).problem);
  }
  {
    // Drop the checkpoint and the end: the events are no longer covered.
    auto cut = std::vector<std::string>(lines.begin(), lines.begin() + static_cast<long>(line_of(lines, 6)) + 1);
    cut.push_back(R"({"record":"end","events":6,"last_position":6})");
    auto r = verify_lines(cut, h.signer->public_key());
    REQUIRE(r.problem);
    CHECK(r.problem->find("not covered by a signed checkpoint") != std::string::npos);
  }
}

TEST_CASE("a filtered export keeps the chain with link records and still verifies") {
  AuditHarness h;
  h.append_events(5, "org-a");
  h.append_events(5, "org-b");
  audit::ExportQuery q;
  q.tenant = "org-b";
  auto lines = h.export_lines(q);
  for (const auto& l : lines) CHECK(l.find("org-a-s") == std::string::npos);  // other tenants' events are links only
  auto r = verify_lines(lines, h.signer->public_key());
  CAPTURE(r.problem.value_or(""));
  CHECK_FALSE(r.problem);
  CHECK(r.events == 5);
}

TEST_CASE("the live log verifies with its checkpoints, and a checkpoint under another key is refused") {
  AuditHarness h;
  h.append_events(4);
  audit::Checkpointer cp(*h.log, *h.signer, h.clock, {});
  REQUIRE(cp.checkpoint_now().ok());
  h.append_events(2);
  REQUIRE(cp.checkpoint_now().ok());
  auto r = audit::verify_live(*h.log, h.signer->public_key());
  CAPTURE(r.problem.value_or(""));
  CHECK_FALSE(r.problem);
  CHECK(r.checkpoints == 2);
  CHECK(r.signed_to == 7);
  audit::PublicKey other = h.signer->public_key();
  other[5] ^= 0x40;
  CHECK(audit::verify_live(*h.log, other).problem);
}

TEST_CASE("an idle log gets no new checkpoint, and the count trigger signs after N events") {
  AuditHarness h;
  h.append_events(3);
  audit::Checkpointer cp(*h.log, *h.signer, h.clock, {});
  REQUIRE(cp.checkpoint_now().ok());
  const auto head = h.log->head().offsets[0];
  REQUIRE(cp.checkpoint_now().ok());  // nothing new but its own checkpoint
  CHECK(h.log->head().offsets[0] == head);
}

TEST_CASE("a background checkpoint that fails is reported, not swallowed") {
  AuditHarness h;
  h.append_events(3);
  // The same log opened read-only: every append, so every checkpoint, fails.
  RocksLogOptions o;
  o.path = h.dir / "log";
  o.read_only = true;
  auto ro = RocksEventLog::open(o);
  REQUIRE(ro.ok());
  std::promise<std::string> reported;
  std::atomic<bool> once{false};
  audit::Checkpointer::Options opts;
  opts.every_events = 1;
  opts.on_failure = [&](const Error& e) {
    if (!once.exchange(true)) reported.set_value(e.message);
  };
  audit::Checkpointer cp(**ro, *h.signer, h.clock, opts);
  auto told = reported.get_future();
  cp.start();
  const bool in_time = told.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  cp.stop();
  REQUIRE(in_time);
  CHECK_FALSE(told.get().empty());
}

TEST_CASE("exports redact secret fields and open personal ones") {
  AuditHarness h;
  NewEvent e = event_for("user-1", "user.signed_up");
  json::object data{{"user_id", "user-1"}, {"email", "x@example.com"}, {"display_name", "X"}, {"password_hash", "$argon2id$secret"}};
  for (const char* f : {"email", "display_name", "password_hash"}) data[f] = *h.vault->seal("user-1", data[f]);
  e.data = json::serialize(data);
  e.subjects = {"user-1"};
  REQUIRE(append_sync(*h.log, commit_of({e})).ok());
  auto lines = h.export_lines();
  const std::string all = [&] {
    std::string s;
    for (auto& l : lines) s += l;
    return s;
  }();
  CHECK(all.find("x@example.com") != std::string::npos);
  CHECK(all.find("argon2id") == std::string::npos);
  CHECK(all.find("[redacted]") != std::string::npos);
  CHECK_FALSE(verify_lines(lines, h.signer->public_key()).problem);
}

namespace {

// Rewrites the stored log behind the log's back: `edit` gets the raw log column
// family of the closed database.
void tamper(const std::string& path, const std::function<void(rocksdb::DB&, rocksdb::ColumnFamilyHandle*)>& edit) {
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (auto& n : names) descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descs, &cfs, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  auto it = std::find(names.begin(), names.end(), "log");
  REQUIRE(it != names.end());
  edit(*db, cfs[static_cast<std::size_t>(it - names.begin())]);
  for (auto* cf : cfs) REQUIRE(db->DestroyColumnFamilyHandle(cf).ok());
  REQUIRE(db->Close().ok());
}

std::string be64_key(std::uint64_t v) {
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) k[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return k;
}

// A log of 40 entries with checkpoints among them, closed; returns its path.
std::string signed_log(AuditHarness& h, audit::PublicKey& key) {
  audit::Checkpointer cp(*h.log, *h.signer, h.clock, {});
  for (int round = 0; round < 4; ++round) {
    h.append_events(9);
    REQUIRE(cp.checkpoint_now().ok());
  }
  key = h.signer->public_key();
  h.log->close();
  h.log.reset();
  return h.dir / "log";
}

audit::AuditReport verify_path(const std::string& path, const audit::PublicKey& key, unsigned slices) {
  RocksLogOptions o;
  o.path = path;
  o.read_only = true;
  auto log = RocksEventLog::open(o);
  REQUIRE(log.ok());
  return audit::verify_live(**log, key, slices);
}

}  // namespace

TEST_CASE("the live log verifies the same in one slice or several, and checkpoints signing across slices count") {
  AuditHarness h;
  audit::PublicKey key;
  const auto path = signed_log(h, key);
  auto one = verify_path(path, key, 1);
  CAPTURE(one.problem.value_or(""));
  CHECK_FALSE(one.problem);
  CHECK(one.records == 40);
  CHECK(one.checkpoints == 4);
  for (unsigned slices : {2u, 3u, 7u, 40u}) {
    CAPTURE(slices);
    auto many = verify_path(path, key, slices);
    CAPTURE(many.problem.value_or(""));
    CHECK_FALSE(many.problem);
    CHECK(many.records == one.records);
    CHECK(many.checkpoints == one.checkpoints);
    CHECK(many.signed_to == one.signed_to);
  }
}

TEST_CASE("the live log names the first bad position of an altered, removed or swapped entry in any slicing") {
  struct Case {
    const char* name;
    std::function<void(rocksdb::DB&, rocksdb::ColumnFamilyHandle*)> edit;
    std::uint64_t first_bad;
  };
  const std::vector<Case> cases{
      {"one byte altered at 14",
       [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
         std::string v;
         REQUIRE(db.Get(rocksdb::ReadOptions(), cf, be64_key(14), &v).ok());
         v[v.size() / 2] ^= 0x01;
         REQUIRE(db.Put(rocksdb::WriteOptions(), cf, be64_key(14), v).ok());
       },
       14},
      {"entry 21 removed",
       [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
         REQUIRE(db.Delete(rocksdb::WriteOptions(), cf, be64_key(21)).ok());
       },
       21},
      {"entries 20 and 27 swapped",
       [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
         std::string a, b;
         REQUIRE(db.Get(rocksdb::ReadOptions(), cf, be64_key(20), &a).ok());
         REQUIRE(db.Get(rocksdb::ReadOptions(), cf, be64_key(27), &b).ok());
         REQUIRE(db.Put(rocksdb::WriteOptions(), cf, be64_key(20), b).ok());
         REQUIRE(db.Put(rocksdb::WriteOptions(), cf, be64_key(27), a).ok());
       },
       20},
      {"the last entry removed",
       [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
         REQUIRE(db.Delete(rocksdb::WriteOptions(), cf, be64_key(40)).ok());
       },
       40},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    AuditHarness h;
    audit::PublicKey key;
    const auto path = signed_log(h, key);
    tamper(path, c.edit);
    for (unsigned slices : {1u, 2u, 3u, 5u}) {
      CAPTURE(slices);
      auto r = verify_path(path, key, slices);
      REQUIRE(r.problem);
      CAPTURE(*r.problem);
      CHECK(r.problem_position == c.first_bad);
    }
  }
}

namespace {
// The audit trail over an in-memory log with three partitions.
struct ThreePartitions {
  MemoryEventLog log{[] {
    MemoryLogOptions o;
    o.partitions = 3;
    return o;
  }()};
  std::unique_ptr<KeyVault> vault;
  std::unique_ptr<audit::Signer> signer;
  std::shared_ptr<SchemaRegistry> schemas;
  ManualClock clock;

  ThreePartitions() {
    REQUIRE(sodium_init() >= 0);
    SecretKey master{};
    master.fill(9);
    vault = std::make_unique<KeyVault>(std::make_shared<MemKeyStore>(), master);
    signer = std::make_unique<audit::Signer>(*vault);
    auto s = SchemaRegistry::from_embedded();
    REQUIRE(s.ok());
    schemas = *s;
    // Events of many organizations, so that every partition holds some.
    for (int i = 0; i < 30; ++i) {
      NewEvent e = event_for(fmt::format("org-{:032x}", i), "test.happened", fmt::format(R"({{"n":{}}})", i));
      e.id = fmt::format("e-{}", i);
      e.tenant = e.stream;
      REQUIRE(append_sync(log, commit_of({e})).ok());
    }
    for (auto n : log.head().offsets) REQUIRE(n > 0);
  }
};
}  // namespace

TEST_CASE("with three partitions, each partition's chain gets its own checkpoints, verifies live, and exports and "
          "verifies offline one partition per file") {
  ThreePartitions t;
  audit::Checkpointer cp(t.log, *t.signer, t.clock, {});
  const PositionToken before = t.log.head();
  auto made = cp.checkpoint_now();
  REQUIRE(made.ok());
  REQUIRE(made->size() == 3);
  for (std::uint32_t p = 0; p < 3; ++p) {
    CAPTURE(p);
    CHECK((*made)[p].partition == p);
    CHECK((*made)[p].position == before.offsets[p]);
    // The checkpoint event is in the chain it signs.
    CHECK(t.log.partition_of(audit::checkpoint_stream(p, 3)) == p);
  }
  CHECK(t.log.head().offsets == std::vector<std::uint64_t>{before.offsets[0] + 1, before.offsets[1] + 1,
                                                           before.offsets[2] + 1});
  auto stored = cp.latest_stored();
  REQUIRE(stored.ok());
  CHECK(stored->size() == 3);

  auto live = audit::verify_live(t.log, t.signer->public_key());
  CAPTURE(live.problem.value_or(""));
  CHECK_FALSE(live.problem);
  CHECK(live.checkpoints == 3);
  CHECK(live.records == before.offsets[0] + before.offsets[1] + before.offsets[2] + 3);
  CHECK(live.signed_each == before);

  for (std::uint32_t p = 0; p < 3; ++p) {
    CAPTURE(p);
    audit::ExportQuery q;
    q.partition = p;
    q.to = before.offsets[p];
    std::vector<std::string> lines;
    auto r = audit::export_audit(t.log, t.vault.get(), *t.schemas, t.signer->public_key(), q,
                                 [&](std::string_view l) { lines.emplace_back(l.substr(0, l.size() - 1)); });
    REQUIRE(r.ok());
    CHECK(json::parse(lines.front()).at("partition").as_int64() == p);
    auto v = verify_lines(lines, t.signer->public_key());
    CAPTURE(v.problem.value_or(""));
    CHECK_FALSE(v.problem);
    CHECK(v.events == before.offsets[p]);
    CHECK(v.signed_to == before.offsets[p]);
  }
  audit::ExportQuery none;
  none.partition = 3;
  CHECK_FALSE(audit::export_audit(t.log, t.vault.get(), *t.schemas, t.signer->public_key(), none,
                                  [](std::string_view) {})
                  .ok());
}

TEST_CASE("a checkpoint placed in one partition's chain that signs another partition does not verify") {
  ThreePartitions t;
  // A validly signed checkpoint of partition 0's head, appended to partition 1's chain.
  auto head0 = t.log.read_forward(0, t.log.head().offsets[0], 1);
  REQUIRE(head0.ok());
  audit::Checkpoint c;
  c.partition = 0;
  c.position = head0->front().position;
  c.chain_hash = head0->front().hash;
  c.public_key = t.signer->public_key();
  c.signature = t.signer->sign(0, c.position, c.chain_hash);
  NewEvent e = event_for(audit::checkpoint_stream(1, 3), audit::kCheckpointType, json::serialize(audit::to_json(c)));
  e.id = "forged";
  REQUIRE(t.log.partition_of(e.stream) == 1);
  auto r = append_sync(t.log, commit_of({e}));
  REQUIRE(r.ok());
  auto live = audit::verify_live(t.log, t.signer->public_key());
  REQUIRE(live.problem);
  CHECK(live.problem->find("signs partition 0, not this chain's partition 1") != std::string::npos);
  CHECK(live.problem_partition == 1);
  CHECK(live.problem_position == r->positions.back());
}
