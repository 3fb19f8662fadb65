// check(): the static types of expressions. A type is "known" unless it is
// `any`; only known types can be wrong. The rules mirror expression_eval.cpp.
#include <fmt/format.h>

#include "engine/workflow/expression.h"
#include "engine/workflow/expression_detail.h"

namespace causeway::workflow {

namespace {



const char* token(Expr::Op op) { return detail::op_token(op); }
bool known(Type t) { return t != Type::any; }
bool is_one_of(Type t, std::initializer_list<Type> allowed) {
  for (auto a : allowed)
    if (t == a) return true;
  return false;
}

class Checker {
 public:
  Checker(const TypeEnv& env, std::vector<CheckProblem>& out) : env_(env), out_(out) {}

  Type type(const Expr& e) {
    switch (e.op) {
      case Expr::Op::literal: return detail::type_of(e.value);
      case Expr::Op::path: return path(e);
      case Expr::Op::call: return call(e);
      case Expr::Op::not_:
        need(e, type(*e.args[0]), {Type::boolean}, "a boolean", "compare it first, e.g. 'x > 0' or 'x != null'");
        return Type::boolean;
      case Expr::Op::neg:
        need(e, type(*e.args[0]), {Type::number}, "a number", "convert it with number()");
        return Type::number;
      case Expr::Op::or_:
      case Expr::Op::and_:
        for (const auto& a : e.args)
          need(e, type(*a), {Type::boolean}, "booleans", "compare it first, e.g. 'x > 0' or 'x != null'");
        return Type::boolean;
      case Expr::Op::eq:
      case Expr::Op::ne: {
        auto a = type(*e.args[0]), b = type(*e.args[1]);
        // null is how a missing value is tested, so it compares with anything.
        if (known(a) && known(b) && a != Type::null && b != Type::null && a != b)
          problem(fmt::format("'{}' compares {} with {} (never equal)", token(e.op), type_name(a), type_name(b)),
                  "convert one side with string() or number()");
        return Type::boolean;
      }
      case Expr::Op::lt:
      case Expr::Op::le:
      case Expr::Op::gt:
      case Expr::Op::ge: {
        auto a = type(*e.args[0]), b = type(*e.args[1]);
        bool ok_a = need(e, a, {Type::number, Type::string}, "numbers or strings", "compare numbers or strings");
        bool ok_b = need(e, b, {Type::number, Type::string}, "numbers or strings", "compare numbers or strings");
        if (ok_a && ok_b && known(a) && known(b) && a != b)
          problem(fmt::format("'{}' compares {} with {}", token(e.op), type_name(a), type_name(b)),
                  "convert one side with string() or number()");
        return Type::boolean;
      }
      case Expr::Op::add: {
        auto a = type(*e.args[0]), b = type(*e.args[1]);
        bool ok_a = need(e, a, {Type::number, Type::string}, "numbers or strings", "add numbers or join strings");
        bool ok_b = need(e, b, {Type::number, Type::string}, "numbers or strings", "add numbers or join strings");
        if (ok_a && ok_b && known(a) && known(b) && a != b)
          problem(fmt::format("'+' needs two numbers or two strings, got {} and {}", type_name(a), type_name(b)),
                  "convert one side with string() or number()");
        if (a == Type::string || b == Type::string) return Type::string;
        if (a == Type::number || b == Type::number) return Type::number;
        return Type::any;
      }
      default: {  // - * / %
        for (const auto& a : e.args) need(e, type(*a), {Type::number}, "numbers", "convert it with number()");
        const auto& rhs = *e.args[1];
        if ((e.op == Expr::Op::div || e.op == Expr::Op::mod) && rhs.op == Expr::Op::literal &&
            ((rhs.value.is_int64() && rhs.value.get_int64() == 0) || (rhs.value.is_double() && rhs.value.get_double() == 0)))
          problem(fmt::format("'{}' divides by zero", token(e.op)), "divide by a number other than 0");
        return Type::number;
      }
    }
    return Type::any;
  }

 private:
  const TypeEnv& env_;
  std::vector<CheckProblem>& out_;

  void problem(std::string message, std::string fix) { out_.push_back({std::move(message), std::move(fix), {}}); }

  // Reports a known type outside `allowed`; returns whether `t` is acceptable.
  bool need(const Expr& e, Type t, std::initializer_list<Type> allowed, const char* what, const char* fix) {
    if (!known(t) || is_one_of(t, allowed)) return true;
    problem(fmt::format("'{}' needs {}, got {}", token(e.op), what, type_name(t)), fix);
    return false;
  }

  Type path(const Expr& e) {
    if (!env_.resolve) return Type::any;
    auto t = env_.resolve(e.path);
    if (t) return *t;
    out_.push_back({fmt::format("unknown variable '{}'", path_string(e.path)), "", e.path});
    return Type::any;
  }

  void need_arg(const Expr& e, Type t, std::initializer_list<Type> allowed, const char* what) {
    if (!known(t) || is_one_of(t, allowed)) return;
    problem(fmt::format("{}() needs {}, got {}", e.name, what, type_name(t)), "pass a value of the right type");
  }

  Type call(const Expr& e) {
    std::vector<Type> args;
    for (const auto& a : e.args) args.push_back(type(*a));
    if (e.name == "len") {
      need_arg(e, args[0], {Type::string, Type::array, Type::object}, "a string, array or object");
      return Type::number;
    }
    if (e.name == "lower" || e.name == "upper") {
      need_arg(e, args[0], {Type::string}, "a string");
      return Type::string;
    }
    if (e.name == "contains") {
      need_arg(e, args[0], {Type::string, Type::array, Type::object}, "a string, array or object first");
      if (args[0] == Type::string || args[0] == Type::object)
        need_arg(e, args[1], {Type::string}, args[0] == Type::string ? "a string to look for" : "a key (string)");
      return Type::boolean;
    }
    if (e.name == "string") return Type::string;
    need_arg(e, args[0], {Type::number, Type::string, Type::boolean}, "a number, string or boolean");
    return Type::number;
  }
};

}  // namespace

std::vector<CheckProblem> check_problems(const Expr& e, const TypeEnv& env, Type* result) {
  std::vector<CheckProblem> out;
  auto t = Checker(env, out).type(e);
  if (result) *result = t;
  return out;
}

std::vector<std::string> check(const Expr& e, const TypeEnv& env, Type* result) {
  std::vector<std::string> out;
  for (auto& p : check_problems(e, env, result)) out.push_back(std::move(p.message));
  return out;
}

}  // namespace causeway::workflow
