#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include "engine/pipeline.h"
#include "events/rocks/rocks_log.h"
#include "support/temp_dir.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;

namespace {
struct Fixture {
  TempDir dir;
  ManualClock clock;
  std::unique_ptr<RocksEventLog> log;
  std::unique_ptr<KeyVault> vault;
  std::shared_ptr<SchemaRegistry> schemas;
  Upcaster upcaster;
  boost::asio::thread_pool cpu{1};
  boost::asio::thread_pool io{4};
  std::unique_ptr<CommandPipeline> pipeline;

  Fixture() {
    RocksLogOptions o;
    o.path = dir / "log";
    o.clock = &clock;
    log = std::move(RocksEventLog::open(o)).value();
    SecretKey master;
    master.fill(7);
    vault = std::make_unique<KeyVault>(log->key_store(), master);
    schemas = std::move(SchemaRegistry::from_embedded()).value();
    CommandPipeline::Options po;
    po.password = {1, 8192};
    pipeline = std::make_unique<CommandPipeline>(*log, *vault, *schemas, upcaster, clock, cpu.get_executor(), po);
    register_user_commands(*pipeline);
    register_organization_commands(*pipeline);
  }
  ~Fixture() {
    cpu.join();
    io.join();
    log->close();
  }

  // co_spawn's future needs a default-constructible value, hence the optional.
  std::future<std::optional<Result<CommandOutcome>>> start(const std::string& cmd, const std::string& body,
                                                           CommandContext ctx) {
    auto* p = pipeline.get();
    return boost::asio::co_spawn(
        io,
        [p, cmd, body, ctx]() -> boost::asio::awaitable<std::optional<Result<CommandOutcome>>> {
          co_return co_await p->execute(cmd, json::parse(body), ctx);
        },
        boost::asio::use_future);
  }
  Result<CommandOutcome> run(const std::string& cmd, const std::string& body, CommandContext ctx = {}) {
    return std::move(*start(cmd, body, std::move(ctx)).get());
  }
  std::string signup(const std::string& email) {
    auto r = run("user.signup", R"({"email":")" + email + R"(","display_name":"Ann","password":"a long password"})");
    REQUIRE(r.ok());
    return std::string(json::parse(r->body).at("user_id").as_string());
  }
  std::string create_org(const std::string& owner, const std::string& slug) {
    auto r = run("organization.create",
                 R"({"slug":")" + slug + R"(","name":"Acme","owner_user_id":")" + owner + R"("})");
    REQUIRE(r.ok());
    return std::string(json::parse(r->body).at("org_id").as_string());
  }
};
}  // namespace

TEST_CASE("a signup is acknowledged with its position and stores no plaintext personal data") {
  Fixture f;
  auto r = f.run("user.signup", R"({"email":"Ann@Example.COM","display_name":"Ann Smith","password":"a long password"})");
  if (!r.ok()) FAIL(r.error().message, " at ", r.error().pointer);
  CHECK(r->status == 201);
  CHECK(r->token.str() == "1");
  auto events = f.log->read_forward(0, 1, 10);
  REQUIRE(events->size() == 1);
  const auto& e = (*events)[0];
  CHECK(e.type == "user.signed_up");
  CHECK(e.data.find("ann@example.com") == std::string::npos);
  CHECK(e.data.find("Ann Smith") == std::string::npos);
  CHECK(e.data.find("argon2id") == std::string::npos);
  auto data = json::parse(e.data);
  REQUIRE(f.vault->open_all(data).ok());
  CHECK(data.at("email").as_string() == "ann@example.com");  // normalized
  CHECK(data.at("display_name").as_string() == "Ann Smith");
  CHECK(std::string(data.at("password_hash").as_string()).rfind("$argon2id$", 0) == 0);
}

TEST_CASE("the same email, differently cased, cannot sign up twice") {
  Fixture f;
  f.signup("ann@example.com");
  auto r = f.run("user.signup", R"({"email":"ANN@example.com","display_name":"Ann","password":"a long password"})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::conflict);
  CHECK(r.error().pointer == "/email");
  CHECK(f.log->head().str() == "1");
}

TEST_CASE("concurrent renames without If-Match all land, each decided on fresh state") {
  Fixture f;
  auto org = f.create_org(f.signup("a@b.co"), "acme");
  std::vector<std::future<std::optional<Result<CommandOutcome>>>> futures;
  for (int i = 0; i < 12; ++i) {
    CommandContext ctx;
    ctx.target = org;
    futures.push_back(f.start("organization.rename", R"({"name":"N)" + std::to_string(i) + R"("})", ctx));
  }
  for (auto& fu : futures) CHECK(fu.get()->ok());
  CHECK(*f.log->stream_version(org) == 13);
  // Each rename's previous_name is the name the one before it set: no lost update.
  auto events = f.log->read_stream(org, 2, 100);
  std::string prev = "Acme";
  for (const auto& e : *events) {
    auto d = json::parse(e.data);
    CHECK(d.at("previous_name").as_string() == prev);
    prev = std::string(d.at("name").as_string());
  }
}

TEST_CASE("a stale If-Match is a conflict and writes nothing") {
  Fixture f;
  auto org = f.create_org(f.signup("a@b.co"), "acme");
  CommandContext ctx;
  ctx.target = org;
  ctx.expected_version = 1;
  REQUIRE(f.run("organization.rename", R"({"name":"One"})", ctx).ok());
  auto head = f.log->head();
  auto stale = f.run("organization.rename", R"({"name":"Two"})", ctx);
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == Errc::conflict);
  CHECK(f.log->head() == head);
}

TEST_CASE("the authorization hook can refuse a command before anything is written") {
  Fixture f;
  f.pipeline->set_authorizer([](const CommandContext& ctx, const std::string& cmd, const json::value&) -> Status {
    if (cmd == "organization.create" && ctx.actor.id == "anonymous") return Error::forbidden("sign in first");
    return ok_status();
  });
  auto owner = f.signup("a@b.co");
  auto r = f.run("organization.create", R"({"slug":"acme","name":"Acme","owner_user_id":")" + owner + R"("})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::forbidden);
  CHECK(f.log->head().str() == "1");
}

TEST_CASE("a repeated Idempotency-Key returns the original reply; another actor's same key does not") {
  Fixture f;
  CommandContext ctx;
  ctx.idempotency_key = "k-1";
  auto body = R"({"email":"a@b.co","display_name":"A","password":"a long password"})";
  auto first = f.run("user.signup", body, ctx);
  REQUIRE(first.ok());
  auto second = f.run("user.signup", body, ctx);
  REQUIRE(second.ok());
  CHECK(second->replayed);
  CHECK(second->body == first->body);
  CHECK(second->status == 201);
  CHECK(f.log->head().str() == "1");
  CommandContext other = ctx;
  other.actor.id = "user:someone-else";
  auto third = f.run("user.signup", body, other);
  REQUIRE_FALSE(third.ok());  // not a replay: a fresh signup that hits the taken email
  CHECK(third.error().code == Errc::conflict);
}

TEST_CASE("organization creation for an unknown owner is refused with the owner's pointer") {
  Fixture f;
  auto r = f.run("organization.create",
                 R"({"slug":"acme","name":"Acme","owner_user_id":"user-0123456789abcdef0123456789abcdef"})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid);
  CHECK(r.error().pointer == "/owner_user_id");
}

TEST_CASE("aggregate state is rebuilt from events when the stored record's format is unknown") {
  Fixture f;
  auto org = f.create_org(f.signup("a@b.co"), "acme");
  // Overwrite the record with one in a format the code does not know.
  Commit c;
  c.aggregates.push_back({org, 99, "garbage"});
  c.expect.push_back({org, 1});
  std::promise<Result<Committed>> p;
  f.log->append(std::move(c), [&](Result<Committed> r) { p.set_value(std::move(r)); });
  REQUIRE(p.get_future().get().ok());
  f.pipeline->aggregates().forget(org);
  CommandContext ctx;
  ctx.target = org;
  auto r = f.run("organization.rename", R"({"name":"Renamed"})", ctx);
  REQUIRE(r.ok());
  auto last = f.log->read_stream(org, 2, 1);
  CHECK(json::parse((*last)[0].data).at("previous_name").as_string() == "Acme");
}
