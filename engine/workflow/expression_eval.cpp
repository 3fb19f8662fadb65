// evaluate(): the run-time semantics of expressions (docs/workflows.md,
// "Expressions and templates"). Error messages name operators and types,
// never values: the context holds personal data.
#include <cmath>
#include <charconv>
#include <cstdint>
#include <fmt/format.h>
#include <limits>
#include <system_error>

#include <boost/json/serialize.hpp>

#include "engine/workflow/json_text.h"
#include "engine/workflow/expression.h"
#include "engine/workflow/expression_detail.h"

namespace causeway::workflow {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxString = 1 << 20;  // bounds what '+' can build

struct Num {
  bool is_int = false;
  std::int64_t i = 0;
  double d = 0;
};

std::optional<Num> number_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64: return Num{true, v.get_int64(), static_cast<double>(v.get_int64())};
    case json::kind::uint64:
      if (v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return Num{true, static_cast<std::int64_t>(v.get_uint64()), static_cast<double>(v.get_uint64())};
      return Num{false, 0, static_cast<double>(v.get_uint64())};
    case json::kind::double_: return Num{false, 0, v.get_double()};
    default: return std::nullopt;
  }
}

const char* kind(const json::value& v) { return type_name(detail::type_of(v)); }
const char* token(Expr::Op op) { return detail::op_token(op); }


bool deep_equal(const json::value& a, const json::value& b) {
  auto x = number_of(a), y = number_of(b);
  if (x || y) {
    if (!x || !y) return false;
    if (x->is_int && y->is_int) return x->i == y->i;
    return x->d == y->d;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::array: {
      const auto &p = a.get_array(), &q = b.get_array();
      if (p.size() != q.size()) return false;
      for (std::size_t i = 0; i < p.size(); ++i)
        if (!deep_equal(p[i], q[i])) return false;
      return true;
    }
    case json::kind::object: {
      const auto &p = a.get_object(), &q = b.get_object();
      if (p.size() != q.size()) return false;
      for (const auto& kv : p) {
        auto* other = q.if_contains(kv.key());
        if (!other || !deep_equal(kv.value(), *other)) return false;
      }
      return true;
    }
    default: return a == b;
  }
}

Result<json::value> finite(double d, Expr::Op op) {
  if (!std::isfinite(d))
    return Error::invalid(fmt::format("'{}' gave a number too large for a double", token(op)));
  return json::value(d);
}

Result<json::value> arithmetic(Expr::Op op, const json::value& a, const json::value& b) {
  auto x = number_of(a), y = number_of(b);
  if (!x || !y) return Error::invalid(fmt::format("'{}' needs numbers, got {} and {}", token(op), kind(a), kind(b)));
  if ((op == Expr::Op::div || op == Expr::Op::mod) && (y->is_int ? y->i == 0 : y->d == 0))
    return Error::invalid(fmt::format("division by zero ('{}')", token(op)));
  if (x->is_int && y->is_int) {
    std::int64_t r = 0;
    switch (op) {
      case Expr::Op::add:
        if (!__builtin_add_overflow(x->i, y->i, &r)) return json::value(r);
        break;
      case Expr::Op::sub:
        if (!__builtin_sub_overflow(x->i, y->i, &r)) return json::value(r);
        break;
      case Expr::Op::mul:
        if (!__builtin_mul_overflow(x->i, y->i, &r)) return json::value(r);
        break;
      case Expr::Op::div:
        if (y->i != -1 && x->i % y->i == 0) return json::value(x->i / y->i);
        if (y->i == -1 && x->i != std::numeric_limits<std::int64_t>::min()) return json::value(-x->i);
        break;
      case Expr::Op::mod:
        return json::value(y->i == -1 ? std::int64_t{0} : x->i % y->i);
      default: break;
    }
  }
  switch (op) {
    case Expr::Op::add: return finite(x->d + y->d, op);
    case Expr::Op::sub: return finite(x->d - y->d, op);
    case Expr::Op::mul: return finite(x->d * y->d, op);
    case Expr::Op::div: return finite(x->d / y->d, op);
    default: return finite(std::fmod(x->d, y->d), op);
  }
}

Result<json::value> compare(Expr::Op op, const json::value& a, const json::value& b) {
  int c = 0;
  auto x = number_of(a), y = number_of(b);
  if (x && y) {
    if (x->is_int && y->is_int) c = x->i < y->i ? -1 : x->i > y->i ? 1 : 0;
    else c = x->d < y->d ? -1 : x->d > y->d ? 1 : 0;
  } else if (a.is_string() && b.is_string()) {
    auto r = std::string_view(a.get_string()).compare(std::string_view(b.get_string()));
    c = r < 0 ? -1 : r > 0 ? 1 : 0;
  } else {
    return Error::invalid(
        fmt::format("'{}' needs two numbers or two strings, got {} and {}", token(op), kind(a), kind(b)));
  }
  switch (op) {
    case Expr::Op::lt: return json::value(c < 0);
    case Expr::Op::le: return json::value(c <= 0);
    case Expr::Op::gt: return json::value(c > 0);
    default: return json::value(c >= 0);
  }
}

Result<json::value> add(const json::value& a, const json::value& b) {
  if (a.is_string() && b.is_string()) {
    if (a.get_string().size() + b.get_string().size() > kMaxString)
      return Error::invalid("'+' would build a string longer than 1 MiB");
    json::string s = a.get_string();
    s.append(b.get_string());
    return json::value(std::move(s));
  }
  if (number_of(a) && number_of(b)) return arithmetic(Expr::Op::add, a, b);
  return Error::invalid(fmt::format("'+' needs two numbers or two strings, got {} and {}", kind(a), kind(b)));
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
  return n;
}

Result<json::value> to_number(const json::value& v) {
  if (auto n = number_of(v)) return n->is_int ? json::value(n->i) : json::value(n->d);
  if (v.is_bool()) return json::value(std::int64_t{v.get_bool() ? 1 : 0});
  if (!v.is_string()) return Error::invalid(fmt::format("number() needs a number, string or boolean, got {}", kind(v)));
  std::string_view s = v.get_string();
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  const char* first = s.data();
  const char* last = s.data() + s.size();
  std::int64_t i = 0;
  if (auto r = std::from_chars(first, last, i); r.ec == std::errc() && r.ptr == last && !s.empty())
    return json::value(i);
  double d = 0;
  if (auto r = std::from_chars(first, last, d, std::chars_format::general);
      r.ec == std::errc() && r.ptr == last && !s.empty() && std::isfinite(d))
    return json::value(d);
  return Error::invalid("number() got a string that is not a number");
}

Result<json::value> call(const std::string& name, const std::vector<json::value>& args) {
  const auto& a = args[0];
  if (name == "len") {
    if (a.is_string()) return json::value(static_cast<std::int64_t>(utf8_length(a.get_string())));
    if (a.is_array()) return json::value(static_cast<std::int64_t>(a.get_array().size()));
    if (a.is_object()) return json::value(static_cast<std::int64_t>(a.get_object().size()));
    return Error::invalid(fmt::format("len() needs a string, array or object, got {}", kind(a)));
  }
  if (name == "lower" || name == "upper") {
    if (!a.is_string()) return Error::invalid(fmt::format("{}() needs a string, got {}", name, kind(a)));
    std::string s(a.get_string());
    for (auto& c : s) {
      if (name == "lower" && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (name == "upper" && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return json::value(json::string(s));
  }
  if (name == "contains") {
    const auto& b = args[1];
    if (a.is_string() && b.is_string())
      return json::value(std::string_view(a.get_string()).find(std::string_view(b.get_string())) !=
                         std::string_view::npos);
    if (a.is_array()) {
      for (const auto& item : a.get_array())
        if (deep_equal(item, b)) return json::value(true);
      return json::value(false);
    }
    if (a.is_object() && b.is_string()) return json::value(a.get_object().contains(b.get_string()));
    return Error::invalid(fmt::format("contains() needs (string, string), (array, any) or (object, string), got ({}, {})",
                                      kind(a), kind(b)));
  }
  if (name == "string") return json::value(json::string(detail::text_of(a)));
  return to_number(a);  // "number": the parser admits no other name
}

class Evaluator {
 public:
  explicit Evaluator(const json::object& context) : ctx_(context) {}

  Result<json::value> eval(const Expr& e) {
    switch (e.op) {
      case Expr::Op::literal: return e.value;
      case Expr::Op::path: return lookup(e.path);
      case Expr::Op::call: {
        std::vector<json::value> args;
        for (const auto& a : e.args) {
          auto v = eval(*a);
          if (!v) return v;
          args.push_back(std::move(v).value());
        }
        return call(e.name, args);
      }
      case Expr::Op::not_: {
        auto v = eval(*e.args[0]);
        if (!v) return v;
        if (!v->is_bool()) return Error::invalid(fmt::format("'!' needs a boolean, got {}", kind(*v)));
        return json::value(!v->get_bool());
      }
      case Expr::Op::neg: {
        auto v = eval(*e.args[0]);
        if (!v) return v;
        auto n = number_of(*v);
        if (!n) return Error::invalid(fmt::format("'-' needs a number, got {}", kind(*v)));
        if (n->is_int && n->i != std::numeric_limits<std::int64_t>::min()) return json::value(-n->i);
        return json::value(-n->d);
      }
      case Expr::Op::or_:
      case Expr::Op::and_: return logical(e);
      default: break;
    }
    auto a = eval(*e.args[0]);
    if (!a) return a;
    auto b = eval(*e.args[1]);
    if (!b) return b;
    switch (e.op) {
      case Expr::Op::eq: return json::value(deep_equal(*a, *b));
      case Expr::Op::ne: return json::value(!deep_equal(*a, *b));
      case Expr::Op::lt:
      case Expr::Op::le:
      case Expr::Op::gt:
      case Expr::Op::ge: return compare(e.op, *a, *b);
      case Expr::Op::add: return add(*a, *b);
      default: return arithmetic(e.op, *a, *b);
    }
  }

 private:
  const json::object& ctx_;

  json::value lookup(const std::vector<std::string>& path) const {
    const json::value* cur = ctx_.if_contains(path[0]);
    for (std::size_t i = 1; i < path.size() && cur; ++i) {
      const auto& seg = path[i];
      if (!seg.empty() && seg.front() >= '0' && seg.front() <= '9') {
        auto* arr = cur->if_array();
        std::size_t idx = 0;
        std::from_chars(seg.data(), seg.data() + seg.size(), idx);
        cur = arr && idx < arr->size() ? &(*arr)[idx] : nullptr;
      } else {
        auto* obj = cur->if_object();
        cur = obj ? obj->if_contains(seg) : nullptr;
      }
    }
    return cur ? *cur : json::value(nullptr);
  }

  // && and || evaluate their right side only when needed.
  Result<json::value> logical(const Expr& e) {
    auto a = eval(*e.args[0]);
    if (!a) return a;
    if (!a->is_bool()) return Error::invalid(fmt::format("'{}' needs booleans, got {}", token(e.op), kind(*a)));
    bool left = a->get_bool();
    if (e.op == Expr::Op::or_ ? left : !left) return json::value(left);
    auto b = eval(*e.args[1]);
    if (!b) return b;
    if (!b->is_bool()) return Error::invalid(fmt::format("'{}' needs booleans, got {}", token(e.op), kind(*b)));
    return json::value(b->get_bool());
  }
};


}  // namespace

namespace detail {
std::string text_of(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  std::string out;
  write_json(v, out, kTemplateJson);
  return out;
}
}  // namespace detail

Result<json::value> evaluate(const Expr& e, const json::object& context) {
  try {
    return Evaluator(context).eval(e);
  } catch (const std::exception& ex) {  // allocation failure inside boost::json
    return Error::invalid(fmt::format("expression failed: {}", ex.what()));
  }
}

}  // namespace causeway::workflow
