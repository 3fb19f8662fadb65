#include <doctest/doctest.h>
#include <sodium.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "events/key_vault.h"
#include "support/mem_key_store.h"

using namespace causeway;
using causeway::testing::MemKeyStore;
namespace json = boost::json;

namespace {
SecretKey key_of(unsigned char b) {
  SecretKey k;
  k.fill(b);
  return k;
}
}  // namespace

TEST_CASE("a sealed field opens to its original value and hides the plaintext") {
  auto store = std::make_shared<MemKeyStore>();
  KeyVault vault(store, key_of(1));
  auto sealed = vault.seal("user-1", json::value("ann@example.com"));
  REQUIRE(sealed.ok());
  CHECK(json::serialize(*sealed).find("ann@example.com") == std::string::npos);
  json::value doc = json::object{{"email", *sealed}, {"plain", 3}};
  REQUIRE(vault.open_all(doc).ok());
  CHECK(doc.at("email").as_string() == "ann@example.com");
  CHECK(doc.at("plain").as_int64() == 3);
  CHECK(store->puts == 1);
  // The wrapped key in the store is not the raw key material.
  CHECK(store->m.at("user-1").size() == 24 + 32 + 16);
}

TEST_CASE("after forget a subject's fields open as [erased] and nothing new can be sealed") {
  auto store = std::make_shared<MemKeyStore>();
  KeyVault vault(store, key_of(1));
  auto sealed = vault.seal("user-1", json::value("Ann"));
  auto other = vault.seal("user-2", json::value("Bob"));
  REQUIRE(vault.forget("user-1").ok());
  json::value doc = json::object{{"a", *sealed}, {"b", *other}};
  REQUIRE(vault.open_all(doc).ok());
  CHECK(doc.at("a").as_string() == "[erased]");
  CHECK(doc.at("b").as_string() == "Bob");
  auto again = vault.seal("user-1", json::value("Ann"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Errc::forbidden);
  // A new vault over the same store (a restart) agrees.
  KeyVault restarted(store, key_of(1));
  json::value doc2 = json::object{{"a", *sealed}};
  REQUIRE(restarted.open_all(doc2).ok());
  CHECK(doc2.at("a").as_string() == "[erased]");
}

TEST_CASE("a field sealed under a retention bucket needs both keys: expiry reads [expired], erasure [erased]") {
  auto store = std::make_shared<MemKeyStore>();
  KeyVault vault(store, key_of(1));
  const std::string bucket = "ret~2026-11-22~-~user";
  auto a = vault.seal("user-1", json::value("Ann"), bucket);
  auto b = vault.seal("user-2", json::value("Bob"), bucket);
  auto c = vault.seal("user-2", json::value("Bob again"));  // v1: no bucket
  REQUIRE(a.ok());
  CHECK(a->at("$sealed").as_string() == "v2");
  CHECK(a->at("ret").as_string() == bucket);
  CHECK(is_sealed(*a));
  json::value doc = json::object{{"a", *a}, {"b", *b}, {"c", *c}};
  json::value before = doc;
  REQUIRE(vault.open_all(before).ok());
  CHECK(before.at("a").as_string() == "Ann");
  CHECK(before.at("b").as_string() == "Bob");

  // A v2 field moved to another bucket or subject does not open.
  json::value moved = *a;
  moved.as_object()["ret"] = "ret~2026-11-23~-~user";
  (void)vault.seal("user-1", json::value("x"), "ret~2026-11-23~-~user");
  json::value moved_doc = json::object{{"a", moved}};
  CHECK(vault.open_all(moved_doc).error().code == Errc::corruption);

  CHECK(*vault.buckets_before("ret~2026-11-23") == std::vector<std::string>{bucket});
  REQUIRE(vault.forget("user-1").ok());
  json::value erased = doc;
  REQUIRE(vault.open_all(erased).ok());
  CHECK(erased.at("a").as_string() == "[erased]");
  CHECK(erased.at("b").as_string() == "Bob");

  REQUIRE(vault.destroy_bucket(bucket).ok());
  CHECK_FALSE(store->m.contains(bucket));
  KeyVault restarted(store, key_of(1));
  for (KeyVault* v : {&vault, &restarted}) {
    json::value after = doc;
    REQUIRE(v->open_all(after).ok());
    CHECK(after.at("a").as_string() == "[erased]");   // the subject's key went first
    CHECK(after.at("b").as_string() == "[expired]");  // only the bucket's key is gone
    CHECK(after.at("c").as_string() == "Bob again");  // fields outside the bucket are untouched
  }
}

TEST_CASE("data keys do not unwrap under a different master key") {
  auto store = std::make_shared<MemKeyStore>();
  KeyVault vault(store, key_of(1));
  auto sealed = vault.seal("user-1", json::value("Ann"));
  KeyVault wrong(store, key_of(2));
  json::value doc = *sealed;
  auto st = wrong.open_all(doc);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == Errc::corruption);
}

TEST_CASE("a tampered ciphertext fails authentication") {
  auto store = std::make_shared<MemKeyStore>();
  KeyVault vault(store, key_of(1));
  auto sealed = vault.seal("user-1", json::value("Ann"));
  auto& ct = sealed->as_object()["ct"].as_string();
  ct[10] = ct[10] == 'A' ? 'B' : 'A';
  json::value doc = *sealed;
  CHECK(vault.open_all(doc).error().code == Errc::corruption);
}

TEST_CASE("the blind index is deterministic per master key and domain") {
  auto store = std::make_shared<MemKeyStore>();
  KeyVault a(store, key_of(1)), b(store, key_of(2));
  CHECK(a.blind_index("email", "x@y.z") == a.blind_index("email", "x@y.z"));
  CHECK(a.blind_index("email", "x@y.z") != a.blind_index("slug", "x@y.z"));
  CHECK(a.blind_index("email", "x@y.z") != b.blind_index("email", "x@y.z"));
}

TEST_CASE("the master key must be 64 hex digits") {
  CHECK(parse_master_key_hex(std::string(64, 'a')).ok());
  CHECK_FALSE(parse_master_key_hex(std::string(63, 'a')).ok());
  CHECK_FALSE(parse_master_key_hex(std::string(64, 'g')).ok());
}
