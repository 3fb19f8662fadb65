#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "engine/workflow/expression.h"

using namespace causeway;
using namespace causeway::workflow;
namespace json = boost::json;

namespace {

json::object context() {
  return json::parse(R"({
    "input": {"plan": "pro", "seats": 7, "price": 2.5, "tags": ["a", "b"], "user": {"name": "Ada"}, "none": null},
    "vars": {"count": 3, "flag": true},
    "steps": {"hook": {"status": 200, "body": {"ok": true}}}
  })").as_object();
}

// Parses and evaluates; the test fails on a parse error.
Result<json::value> eval(std::string_view text) {
  auto e = parse_expression(text);
  REQUIRE_MESSAGE(e.ok(), (e.ok() ? "" : e.error().message));
  return evaluate(**e, context());
}

json::value value(std::string_view text) {
  auto v = eval(text);
  REQUIRE_MESSAGE(v.ok(), (v.ok() ? "" : v.error().message));
  return *v;
}

std::string parse_error(std::string_view text) {
  auto e = parse_expression(text);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().code == Errc::invalid);
  return e.error().message;
}

std::string eval_error(std::string_view text) {
  auto v = eval(text);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().code == Errc::invalid);
  return v.error().message;
}

// input: plan string, seats number, tags array, user object; vars.count number.
TypeEnv env() {
  return TypeEnv{[](const std::vector<std::string>& p) -> std::optional<Type> {
    if (p[0] == "steps") return Type::any;
    if (p.size() == 1) return Type::object;
    if (p[0] == "input") {
      if (p[1] == "plan") return p.size() == 2 ? std::optional(Type::string) : std::nullopt;
      if (p[1] == "seats") return p.size() == 2 ? std::optional(Type::number) : std::nullopt;
      if (p[1] == "tags") return p.size() == 2 ? Type::array : Type::any;
      if (p[1] == "user") return p.size() == 2 ? Type::object : Type::any;
    }
    if (p[0] == "vars" && p[1] == "count" && p.size() == 2) return Type::number;
    return std::nullopt;
  }};
}

std::vector<std::string> problems(std::string_view text, Type* result = nullptr) {
  auto e = parse_expression(text);
  REQUIRE(e.ok());
  return check(**e, env(), result);
}

}  // namespace

TEST_CASE("expression precedence: * before +, && before ||, ! before comparison operands") {
  CHECK(value("1 + 2 * 3") == json::value(7));
  CHECK(value("(1 + 2) * 3") == json::value(9));
  CHECK(value("10 - 2 - 3") == json::value(5));
  CHECK(value("8 / 2 / 2") == json::value(2));
  CHECK(value("-2 * 3") == json::value(-6));
  CHECK(value("- -4") == json::value(4));
  CHECK(value("true || false && false") == json::value(true));
  CHECK(value("!false && false") == json::value(false));
  CHECK(value("!(1 == 2)") == json::value(true));
  CHECK(value("1 + 1 == 2 && 3 > 2") == json::value(true));
  CHECK(value("input.seats > 5 && input.plan == 'pro'") == json::value(true));
}

TEST_CASE("integer arithmetic stays int64 when exact and becomes a double otherwise") {
  CHECK(value("6 / 3").is_int64());
  CHECK(value("6 / 3") == json::value(2));
  CHECK(value("7 / 2").is_double());
  CHECK(value("7 / 2").get_double() == doctest::Approx(3.5));
  CHECK(value("7 % 3") == json::value(1));
  CHECK(value("-7 % 3") == json::value(-1));
  CHECK(value("5.5 % 2").get_double() == doctest::Approx(1.5));
  CHECK(value("input.price * 2").get_double() == doctest::Approx(5.0));
  auto big = value("9223372036854775807 + 1");
  CHECK(big.is_double());
  CHECK(value("9223372036854775807 * 2").is_double());
  CHECK(value("99999999999999999999").is_double());  // too large for int64 as a literal
}

TEST_CASE("equality is deep and 1 equals 1.0") {
  CHECK(value("1 == 1.0") == json::value(true));
  CHECK(value("input.tags == input.tags") == json::value(true));
  CHECK(value("input.user == steps.hook.body") == json::value(false));
  CHECK(value("'1' == 1") == json::value(false));
  CHECK(value("input.none == null") == json::value(true));
  CHECK(value("input.missing == null") == json::value(true));
  CHECK(value("1 != 2") == json::value(true));
}

TEST_CASE("paths read input, vars and steps; a missing path is null") {
  CHECK(value("input.user.name") == json::value("Ada"));
  CHECK(value("input.tags[1]") == json::value("b"));
  CHECK(value("input.tags[5]").is_null());
  CHECK(value("input.plan.length").is_null());  // through a string
  CHECK(value("input.nope.deeper").is_null());
  CHECK(value("steps.hook.status") == json::value(200));
  CHECK(value("vars.count + 1") == json::value(4));
  CHECK(value("input").is_object());
}

TEST_CASE("strings concatenate, compare bytewise and unescape") {
  CHECK(value("'a' + \"b\"") == json::value("ab"));
  CHECK(value("'it\\'s' + \"\\n\"") == json::value("it's\n"));
  CHECK(value("'abc' < 'abd'") == json::value(true));
  CHECK(value("'b' >= 'a'") == json::value(true));
}

TEST_CASE("functions: len, lower, upper, contains, string, number") {
  CHECK(value("len('h\xc3\xa9llo')") == json::value(5));  // code points, not bytes
  CHECK(value("len(input.tags)") == json::value(2));
  CHECK(value("len(input.user)") == json::value(1));
  CHECK(value("upper(input.plan)") == json::value("PRO"));
  CHECK(value("lower('AbC')") == json::value("abc"));
  CHECK(value("contains(input.plan, 'r')") == json::value(true));
  CHECK(value("contains(input.tags, 'b')") == json::value(true));
  CHECK(value("contains(input.user, 'name')") == json::value(true));
  CHECK(value("string(input.price)") == json::value("2.5"));
  CHECK(value("string(input.tags)") == json::value(R"(["a","b"])"));
  CHECK(value("number(' 42 ')") == json::value(42));
  CHECK(value("number('2.5')").get_double() == doctest::Approx(2.5));
  CHECK(value("number(true)") == json::value(1));
  CHECK(eval_error("number('abc')") == "number() got a string that is not a number");
  CHECK(eval_error("len(3)") == "len() needs a string, array or object, got number");
}

TEST_CASE("run-time type errors and division by zero are invalid, naming the operator and types") {
  CHECK(eval_error("1 + 'a'") == "'+' needs two numbers or two strings, got number and string");
  CHECK(eval_error("input.seats && true") == "'&&' needs booleans, got number");
  CHECK(eval_error("input.plan < 3") == "'<' needs two numbers or two strings, got string and number");
  CHECK(eval_error("'a' - 1") == "'-' needs numbers, got string and number");
  CHECK(eval_error("!1") == "'!' needs a boolean, got number");
  CHECK(eval_error("1 / 0") == "division by zero ('/')");
  CHECK(eval_error("1 % 0") == "division by zero ('%')");
  CHECK(eval_error("1.5 / 0.0") == "division by zero ('/')");
  CHECK(eval_error("input.missing + 1") == "'+' needs two numbers or two strings, got null and number");
}

TEST_CASE("&& and || do not evaluate their right side when the left decides") {
  CHECK(value("false && 1 / 0 == 1") == json::value(false));
  CHECK(value("true || 1 / 0 == 1") == json::value(true));
}

TEST_CASE("parse errors name the offset and what was expected") {
  CHECK(parse_error("1 +") == "at offset 3: expected an operand, found end of expression");
  CHECK(parse_error("input.") == "at offset 6: expected a field name after '.', found end of expression");
  CHECK(parse_error("1 = 2") ==
        "at offset 2: expected an operator or end of expression, found '=' (equality is '==')");
  CHECK(parse_error("(1 + 2") == "at offset 6: expected ')', found end of expression");
  CHECK(parse_error("'abc") == "at offset 4: expected the closing ' of the string at offset 0, found end of expression");
  CHECK(parse_error("input.tags[x]") == "at offset 11: expected an index (digits) after '[', found 'x'");
  CHECK(parse_error("foo(1)") ==
        "at offset 0: expected a function (len, lower, upper, contains, string, number), found 'foo'");
  CHECK(parse_error("plan == 1") ==
        "at offset 0: expected input, vars, steps, true, false, null or a function call, found 'plan'");
  CHECK(parse_error("len(1, 2)") == "at offset 0: expected 1 argument to len(), found 2");
  CHECK(parse_error("1 < 2 < 3").starts_with("at offset 6: expected an operator other than a comparison"));
  CHECK(parse_error("'a\\q'") == "at offset 2: expected an escape (\\\\ \\' \\\" \\n \\t), found '\\q'");
  CHECK(parse_error("") == "at offset 0: expected an operand, found end of expression");
  CHECK(parse_error("1 & 2").ends_with("(use '&&' or '||')"));
}

TEST_CASE("nesting deeper than 64 levels is refused, not a stack overflow") {
  std::string deep(200, '(');
  deep += "1" + std::string(200, ')');
  CHECK(parse_error(deep).find("levels of nesting") != std::string::npos);
  std::string nots(10000, '!');
  CHECK(parse_error(nots + "true").find("levels of nesting") != std::string::npos);
}

TEST_CASE("check reports unknown variables and incompatible known types") {
  CHECK(problems("input.plna == 'pro'") == std::vector<std::string>{"unknown variable 'input.plna'"});
  CHECK(problems("vars.x") == std::vector<std::string>{"unknown variable 'vars.x'"});
  CHECK(problems("input.seats < input.plan") == std::vector<std::string>{"'<' compares number with string"});
  CHECK(problems("input.seats == 'x'") == std::vector<std::string>{"'==' compares number with string (never equal)"});
  CHECK(problems("input.seats && true") == std::vector<std::string>{"'&&' needs booleans, got number"});
  CHECK(problems("input.seats + input.plan") ==
        std::vector<std::string>{"'+' needs two numbers or two strings, got number and string"});
  CHECK(problems("input.plan - 1") == std::vector<std::string>{"'-' needs numbers, got string"});
  CHECK(problems("len(input.seats)") == std::vector<std::string>{"len() needs a string, array or object, got number"});
  CHECK(problems("input.seats / 0") == std::vector<std::string>{"'/' divides by zero"});
  // Two problems at once.
  CHECK(problems("input.plna > 1 || input.plan > 1").size() == 2);
}

TEST_CASE("check accepts any, null comparisons and gives the result type") {
  Type t = Type::any;
  CHECK(problems("input.user.name == 3", &t).empty());  // a member of an object is any
  CHECK(t == Type::boolean);
  CHECK(problems("input.plan == null").empty());
  CHECK(problems("input.seats * 2", &t).empty());
  CHECK(t == Type::number);
  CHECK(problems("input.plan + '!'", &t).empty());
  CHECK(t == Type::string);
  CHECK(problems("steps.anything.at.all + 1", &t).empty());
  CHECK(t == Type::number);
  CHECK(problems("vars.count", &t).empty());
  CHECK(t == Type::number);
  CHECK(problems("upper(input.plan)", &t).empty());
  CHECK(t == Type::string);
}

TEST_CASE("check marks an unknown variable with its path") {
  auto e = parse_expression("input.plna");
  REQUIRE(e.ok());
  auto ps = check_problems(**e, env(), nullptr);
  REQUIRE(ps.size() == 1);
  REQUIRE(ps[0].unknown.has_value());
  CHECK(*ps[0].unknown == std::vector<std::string>{"input", "plna"});
}

TEST_CASE("paths_of lists every path read, with index segments as digits") {
  auto e = parse_expression("input.a[02].b > vars.x && contains(steps.s.body, 'k')");
  REQUIRE(e.ok());
  auto ps = paths_of(**e);
  REQUIRE(ps.size() == 3);
  CHECK(ps[0] == std::vector<std::string>{"input", "a", "2", "b"});
  CHECK(path_string(ps[0]) == "input.a[2].b");
  CHECK(ps[1] == std::vector<std::string>{"vars", "x"});
  CHECK(ps[2] == std::vector<std::string>{"steps", "s", "body"});
}

TEST_CASE("type names parse back, except null") {
  for (auto t : {Type::any, Type::boolean, Type::number, Type::string, Type::object, Type::array})
    CHECK(parse_type(type_name(t)) == t);
  CHECK_FALSE(parse_type("null"));
  CHECK_FALSE(parse_type("integer"));
}

TEST_CASE("templates render strings as they are and other values as compact JSON") {
  auto t = parse_template("Hi {{ input.user.name }}: {{input.seats}} seats, {{ input.tags }}, {{ input.price }}, "
                          "{{ input.none }}, {{ input.user }}, {{ 1 == 1 }}");
  REQUIRE(t.ok());
  auto s = render(*t, context());
  REQUIRE(s.ok());
  CHECK(*s == R"(Hi Ada: 7 seats, ["a","b"], 2.5, null, {"name":"Ada"}, true)");
}

TEST_CASE("a template without parts renders as its text, and the empty template as nothing") {
  auto t = parse_template("plain } { text");
  REQUIRE(t.ok());
  CHECK(*render(*t, context()) == "plain } { text");
  CHECK(*render(Template{}, context()) == "");
}

TEST_CASE("a '}}' inside a string literal does not close a template part") {
  auto t = parse_template("{{ 'a}}b' + input.plan }}!");
  REQUIRE(t.ok());
  CHECK(*render(*t, context()) == "a}}bpro!");
}

TEST_CASE("template errors carry offsets into the whole template") {
  auto open = parse_template("Hello {{ input.plan ");
  REQUIRE_FALSE(open.ok());
  CHECK(open.error().message == "at offset 20: expected '}}' to close the '{{' at offset 6, found end of template");
  auto bad = parse_template("ab {{ 1 + }}");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "at offset 10: expected an operand, found '}'");
}

TEST_CASE("template evaluation errors and checks come from their expressions") {
  auto t = parse_template("{{ input.plan - 1 }} {{ input.nope }}");
  REQUIRE(t.ok());
  auto r = render(*t, context());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "'-' needs numbers, got string and number");
  CHECK(check(*t, env()) ==
        std::vector<std::string>{"'-' needs numbers, got string", "unknown variable 'input.nope'"});
  CHECK(paths_of(*t).size() == 2);
}
