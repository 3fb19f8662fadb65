// A real server (api/node.h) on a loopback port with a fresh data folder.
#pragma once

#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <functional>

#include "api/node.h"
#include "events/memory/memory_log.h"
#include "support/http_client.h"
#include "support/mem_key_store.h"
#include "support/temp_dir.h"

namespace causeway::testing {

struct NodeFixture {
  TempDir dir;
  std::unique_ptr<Node> node;
  std::unique_ptr<HttpClient> http;

  explicit NodeFixture(std::size_t max_body = 64 * 1024)
      : NodeFixture([max_body](ServerConfig& cfg) { cfg.max_body_bytes = max_body; }) {}

  // `tweak` adjusts the test configuration (e.g. a short query_timeout) before the node opens.
  // `clock`: an injected clock (e.g. ManualClock) that outlives the fixture.
  explicit NodeFixture(const std::function<void(ServerConfig&)>& tweak, const Clock* clock = nullptr) {
    start(tweak, clock);
  }

  // The node on an in-memory log with `partitions` partitions (and an
  // in-memory data-key store), which the fixture keeps across restart().
  struct Partitions {
    std::uint32_t count;
  };
  NodeFixture(Partitions p, const std::function<void(ServerConfig&)>& tweak = [](ServerConfig&) {},
              const Clock* clock = nullptr) {
    MemoryLogOptions o;
    o.partitions = p.count;
    o.clock = clock;
    shared_.log = std::make_shared<MemoryEventLog>(o);
    shared_.keys = std::make_shared<MemKeyStore>();
    start(tweak, clock);
  }

  // Stops the node and opens it again on the same folder (a new port).
  void restart() {
    http.reset();
    node.reset();
    open();
  }

  std::string head() { return node->log().head().str(); }
  ServerConfig cfg_;
  const Clock* clock_ = nullptr;
  SharedLog shared_;  // empty: the node opens the embedded log in `dir`

 private:
  void start(const std::function<void(ServerConfig&)>& tweak, const Clock* clock) {
    ServerConfig cfg;
    cfg.data_dir = dir.str();
    cfg.port = 0;
    cfg.io_threads = 2;
    cfg.password = {1, 8192};  // argon2id at its minimum cost: tests check behaviour, not strength
    tweak(cfg);
    cfg_ = cfg;
    clock_ = clock;
    open();
  }
  void open() {
    auto n = Node::open(cfg_, clock_, shared_);
    REQUIRE(n.ok());
    node = std::move(n).value();
    http = std::make_unique<HttpClient>(node->port());
  }

 public:
  // The head's position (partition 0), for domain_writes_since().
  std::uint64_t position() {
    auto h = node->log().head();
    return h.offsets.empty() ? 0 : h.offsets[0];
  }
  // The types of the events written after `pos`, other than the access.denied
  // records of refused callers: what a refused request must not have written.
  std::vector<std::string> domain_writes_since(std::uint64_t pos) {
    auto events = node->log().read_forward(0, pos + 1, 100'000);
    REQUIRE(events.ok());
    std::vector<std::string> out;
    for (const auto& e : *events)
      if (e.type != "access.denied") out.push_back(e.type);
    return out;
  }

  std::string signup(const std::string& email) {
    auto r = http->post("/v1/users", R"({"email":")" + email + R"(","display_name":"Ann","password":"a long password"})");
    REQUIRE(r.status == 201);
    return std::string(r.json().at("user_id").as_string());
  }
  // A session's access token for `email` (signed up with signup()'s password).
  std::string login(const std::string& email) {
    auto r = http->post("/v1/sessions", R"({"email":")" + email + R"(","password":"a long password"})");
    REQUIRE(r.status == 201);
    return std::string(r.json().at("access_token").as_string());
  }
  // As the operator (the admin token) unless `h` brings its own Authorization.
  HttpResult create_org(const std::string& owner, const std::string& slug, std::map<std::string, std::string> h = {}) {
    if (!h.contains("Authorization")) h["Authorization"] = "Bearer " + node->admin_token();
    return http->post("/v1/organizations",
                      R"({"slug":")" + slug + R"(","name":"Acme","owner_user_id":")" + owner + R"("})", std::move(h));
  }
};

// A node on `data_dir` that outlives any one fixture's folder (for restarts),
// with the test configuration NodeFixture uses, adjusted by `tweak`.
inline std::unique_ptr<Node> open_node(const TempDir& data_dir,
                                       const std::function<void(ServerConfig&)>& tweak = {}) {
  ServerConfig cfg;
  cfg.data_dir = data_dir.str();
  cfg.port = 0;
  cfg.io_threads = 2;
  cfg.password = {1, 8192};
  if (tweak) tweak(cfg);
  auto n = Node::open(cfg);
  REQUIRE(n.ok());
  return std::move(n).value();
}

// Checks the RFC 9457 shape of an error response and returns it.
inline boost::json::object problem_of(const HttpResult& r, int status) {
  CHECK(r.status == status);
  CHECK(r.header("content-type") == "application/problem+json");
  auto o = r.json().as_object();
  CHECK(o.at("status").as_int64() == status);
  CHECK(o.contains("type"));
  CHECK(o.contains("title"));
  CHECK(o.contains("detail"));
  return o;
}

inline std::string pointer_of(const boost::json::object& problem) {
  auto* errs = problem.if_contains("errors");
  if (!errs || errs->as_array().empty()) return "<none>";
  return std::string(errs->as_array()[0].as_object().at("pointer").as_string());
}

}  // namespace causeway::testing
