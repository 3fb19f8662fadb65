#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "engine/schema_registry.h"
#include "support/schemas.h"

using namespace causeway;
namespace json = boost::json;

namespace {
const SchemaRegistry& registry() { return testing::embedded_registry(); }
bool has_pointer(const std::vector<FieldError>& errs, const std::string& p) {
  for (const auto& e : errs)
    if (e.pointer == p) return true;
  return false;
}
}  // namespace

TEST_CASE("every embedded schema compiles and the commands are known") {
  CHECK(registry().has_command("user.signup"));
  CHECK(registry().has_command("organization.create"));
  CHECK(registry().has_command("organization.rename"));
  CHECK_FALSE(registry().has_command("nope"));
}

TEST_CASE("a valid signup passes") {
  auto v = json::parse(R"({"email":"a@b.co","display_name":"A","password":"long enough pw"})");
  CHECK(registry().validate_command("user.signup", v).empty());
}

TEST_CASE("an unknown field is reported at its own pointer") {
  auto v = json::parse(R"({"email":"a@b.co","display_name":"A","password":"long enough pw","admin":true})");
  auto errs = registry().validate_command("user.signup", v);
  REQUIRE_FALSE(errs.empty());
  CHECK(errs.front().pointer == "/admin");
}

TEST_CASE("a wrong type is reported at the field's pointer") {
  auto v = json::parse(R"({"email":42,"display_name":"A","password":"long enough pw"})");
  CHECK(has_pointer(registry().validate_command("user.signup", v), "/email"));
}

TEST_CASE("a missing required field is reported") {
  auto v = json::parse(R"({"email":"a@b.co","display_name":"A"})");
  auto errs = registry().validate_command("user.signup", v);
  REQUIRE_FALSE(errs.empty());
}

TEST_CASE("a slug with capitals breaks the pattern") {
  auto v = json::parse(R"({"slug":"Acme","name":"Acme","owner_user_id":"user-0123456789abcdef0123456789abcdef"})");
  CHECK(has_pointer(registry().validate_command("organization.create", v), "/slug"));
}

TEST_CASE("personal fields are read from the x-personal annotations") {
  auto& p = registry().personal_fields("user.signed_up", 1);
  CHECK(p == std::vector<std::string>{"email", "display_name", "password_hash"});
  CHECK(registry().personal_fields("organization.created", 1).empty());
}
