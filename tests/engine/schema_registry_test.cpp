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

TEST_CASE("every command's schema reports each required field missing from an empty body at its own pointer") {
  std::size_t commands = 0, fields = 0;
  for (const auto& s : embedded_schemas()) {
    const std::string path = s.path;
    if (path.rfind("commands/", 0) != 0) continue;
    const std::string name = path.substr(9, path.size() - 9 - 5);  // commands/<name>.json
    CAPTURE(name);
    REQUIRE(registry().has_command(name));
    ++commands;
    const auto schema = json::parse(s.text).as_object();
    const auto* required = schema.if_contains("required");
    if (!required) continue;
    const auto errs = registry().validate_command(name, json::object{});
    for (const auto& field : required->as_array()) {
      const std::string f(field.as_string());
      CAPTURE(f);
      ++fields;
      bool named = false;
      for (const auto& e : errs) named = named || (e.pointer == "/" + f && e.detail == f + " is required");
      CHECK(named);
    }
  }
  CHECK(commands >= 50);  // the files of schemas/commands/ were found
  CHECK(fields > 50);
}
