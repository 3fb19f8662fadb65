// Workflow expressions and templates (docs/workflows.md, "Expressions and
// templates"): parsing, evaluation against a run context, and static typing
// for validation. Everything here is pure and thread-safe; a parsed Expr is
// immutable and may be shared between threads.
//
// The run context is a JSON object {"input": {...}, "vars": {...},
// "steps": {...}}. A path reads from it; a path to a missing field (or through
// a value that is not an object or array) is null.
//
// Numbers are int64 or double. Arithmetic on two int64 gives an int64 when the
// exact result fits (for '/' only when the division is exact), else a double.
// A result that is not finite is an error. Equality is deep, and 1 == 1.0.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "events/result.h"

namespace causeway::workflow {

// Static types. `any` is "not known before the run".
enum class Type { any, null, boolean, number, string, object, array };
const char* type_name(Type t);
// "string" "number" "boolean" "object" "array" "any" (the names a definition's
// `input` uses); nullopt for anything else, "null" included.
std::optional<Type> parse_type(std::string_view name);

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

// The syntax tree. `offset` is the byte offset in the parsed text where the
// node starts (for operators: where the operator is), for messages.
struct Expr {
  enum class Op {
    literal, path, call,
    not_, neg,                              // one operand
    or_, and_, eq, ne, lt, le, gt, ge,      // two operands
    add, sub, mul, div, mod,
  };
  Op op = Op::literal;
  std::size_t offset = 0;
  boost::json::value value;        // literal
  std::vector<std::string> path;   // path: the root ("input", "vars" or "steps"),
                                   // then each segment; an index segment is its digits
  std::string name;                // call: the function
  std::vector<ExprPtr> args;       // operands or call arguments, left to right
};

// Parses one expression (the whole text; surrounding blanks allowed). On a
// syntax error returns Error::invalid whose message names the byte offset and
// what was expected, e.g. "at offset 7: expected an operand, found end of
// expression". Nesting deeper than 64 levels is refused.
Result<ExprPtr> parse_expression(std::string_view text);

// Evaluates against the run context (keys input, vars, steps). Operators on
// the wrong types, division by zero, a bad number() argument or a non-finite
// result give Error::invalid saying what went wrong (never the values, which
// may be personal data).
Result<boost::json::value> evaluate(const Expr& e, const boost::json::object& context);

// "input.items[0].name"
std::string path_string(const std::vector<std::string>& path);

// The types of variables, for check(). resolve() returns nullopt when the
// variable does not exist, Type::any when it exists but its type is unknown.
struct TypeEnv {
  std::function<std::optional<Type>(const std::vector<std::string>& path)> resolve;
};

// One problem check() found. `unknown` holds the path when the problem is an
// unknown variable (so a caller can suggest a near name); `fix` is a hint.
struct CheckProblem {
  std::string message;
  std::string fix;
  std::optional<std::vector<std::string>> unknown;
};

// Every static problem of `e`: unknown variables ("unknown variable
// 'input.plna'") and operators on incompatible known types ("'<' compares
// number with string"). Types `any` and `null` never make a comparison with
// '=='/'!=' an error (null is how a missing value is tested). `result`, when
// not null, receives the expression's type (any when unknown).
std::vector<CheckProblem> check_problems(const Expr& e, const TypeEnv& env, Type* result);
// The messages of check_problems().
std::vector<std::string> check(const Expr& e, const TypeEnv& env, Type* result);

// Every variable path the expression reads, in source order (duplicates kept).
std::vector<std::vector<std::string>> paths_of(const Expr& e);

// The functions an expression may call and how many arguments each takes.
// len(string|array|object) lower(string) upper(string) (ASCII case),
// contains(string, string) | contains(array, any) | contains(object, key),
// string(any) (as a template renders it), number(number|string|boolean).
std::optional<std::size_t> function_arity(std::string_view name);

// A template: literal text with "{{ expression }}" parts. A "}}" inside a
// string literal of the expression does not end the part.
struct Template {
  struct Part {
    std::string text;     // literal text when expr is null
    ExprPtr expr;
    std::size_t offset = 0;  // where the part starts in the template
  };
  std::vector<Part> parts;  // empty: the empty string
};

// Errors as parse_expression(), with offsets into the whole template
// ("at offset 12: expected '}}', found end of template").
Result<Template> parse_template(std::string_view text);
// Strings are inserted as they are, other values as compact JSON (null as
// "null"). The first evaluation error is returned.
Result<std::string> render(const Template& t, const boost::json::object& context);
std::vector<std::string> check(const Template& t, const TypeEnv& env);
std::vector<CheckProblem> check_problems(const Template& t, const TypeEnv& env);
std::vector<std::vector<std::string>> paths_of(const Template& t);

}  // namespace causeway::workflow
