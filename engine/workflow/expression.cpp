// The expression grammar of docs/workflows.md, parsed by recursive descent:
// one function per precedence level, lowest first.
#include "engine/workflow/expression.h"

#include <charconv>
#include <cstdint>
#include <fmt/format.h>
#include <system_error>

#include "engine/workflow/expression_detail.h"

namespace causeway::workflow {

const char* type_name(Type t) {
  switch (t) {
    case Type::any: return "any";
    case Type::null: return "null";
    case Type::boolean: return "boolean";
    case Type::number: return "number";
    case Type::string: return "string";
    case Type::object: return "object";
    case Type::array: return "array";
  }
  return "any";
}

std::optional<Type> parse_type(std::string_view name) {
  if (name == "any") return Type::any;
  if (name == "boolean") return Type::boolean;
  if (name == "number") return Type::number;
  if (name == "string") return Type::string;
  if (name == "object") return Type::object;
  if (name == "array") return Type::array;
  return std::nullopt;
}

std::optional<std::size_t> function_arity(std::string_view name) {
  if (name == "len" || name == "lower" || name == "upper" || name == "string" || name == "number") return 1;
  if (name == "contains") return 2;
  return std::nullopt;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_index(const std::string& segment) { return !segment.empty() && is_digit(segment.front()); }

constexpr int kMaxDepth = 64;

class Parser {
 public:
  Parser(std::string_view text, std::size_t pos, std::string_view end_name)
      : s_(text), pos_(pos), end_name_(end_name) {}

  ExprPtr parse() { return or_(); }
  std::size_t pos() const { return pos_; }
  const std::optional<Error>& error() const { return error_; }
  void skip() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

 private:
  std::string_view s_;
  std::size_t pos_;
  std::string_view end_name_;
  std::optional<Error> error_;
  int depth_ = 0;

  // Keeps the first error only: later ones are consequences.
  ExprPtr fail(std::size_t at, const std::string& what) {
    if (!error_) error_ = Error::invalid(fmt::format("at offset {}: {}", at, what));
    return nullptr;
  }
  ExprPtr expected(const std::string& what) {
    skip();
    return fail(pos_, fmt::format("expected {}, found {}", what, detail::describe_at(s_, pos_, end_name_)));
  }
  bool at(std::string_view token) {
    skip();
    return s_.substr(pos_).starts_with(token);
  }
  static ExprPtr node(Expr::Op op, std::size_t offset, std::vector<ExprPtr> args) {
    auto e = std::make_shared<Expr>();
    e->op = op;
    e->offset = offset;
    e->args = std::move(args);
    return e;
  }

  // A level of nesting (parentheses, unary operators), bounded so that
  // parsing, evaluation and checking cannot exhaust the stack.
  bool enter() {
    if (++depth_ > kMaxDepth) {
      fail(pos_, fmt::format("expected at most {} levels of nesting", kMaxDepth));
      return false;
    }
    return true;
  }

  ExprPtr or_() {
    auto lhs = and_();
    while (lhs && at("||")) {
      auto off = pos_;
      pos_ += 2;
      auto rhs = and_();
      if (!rhs) return nullptr;
      lhs = node(Expr::Op::or_, off, {lhs, rhs});
    }
    return lhs;
  }

  ExprPtr and_() {
    auto lhs = not_();
    while (lhs && at("&&")) {
      auto off = pos_;
      pos_ += 2;
      auto rhs = not_();
      if (!rhs) return nullptr;
      lhs = node(Expr::Op::and_, off, {lhs, rhs});
    }
    return lhs;
  }

  ExprPtr not_() {
    if (at("!") && !at("!=")) {
      auto off = pos_++;
      if (!enter()) return nullptr;
      auto operand = not_();
      --depth_;
      if (!operand) return nullptr;
      return node(Expr::Op::not_, off, {operand});
    }
    return cmp();
  }

  std::optional<Expr::Op> comparison() {
    static const std::pair<std::string_view, Expr::Op> ops[] = {
        {"==", Expr::Op::eq}, {"!=", Expr::Op::ne}, {"<=", Expr::Op::le},
        {">=", Expr::Op::ge}, {"<", Expr::Op::lt},  {">", Expr::Op::gt}};
    for (const auto& [token, op] : ops)
      if (at(token)) {
        pos_ += token.size();
        return op;
      }
    return std::nullopt;
  }

  ExprPtr cmp() {
    auto lhs = sum();
    if (!lhs) return nullptr;
    skip();
    auto off = pos_;
    auto op = comparison();
    if (!op) return lhs;
    auto rhs = sum();
    if (!rhs) return nullptr;
    skip();
    auto again = pos_;
    if (comparison()) return fail(again, "expected an operator other than a comparison: comparisons do not chain (use &&)");
    return node(*op, off, {lhs, rhs});
  }

  ExprPtr sum() {
    auto lhs = prod();
    while (lhs && (at("+") || at("-"))) {
      auto off = pos_;
      auto op = s_[pos_++] == '+' ? Expr::Op::add : Expr::Op::sub;
      auto rhs = prod();
      if (!rhs) return nullptr;
      lhs = node(op, off, {lhs, rhs});
    }
    return lhs;
  }

  ExprPtr prod() {
    auto lhs = unary();
    while (lhs && (at("*") || at("/") || at("%"))) {
      auto off = pos_;
      char c = s_[pos_++];
      auto op = c == '*' ? Expr::Op::mul : c == '/' ? Expr::Op::div : Expr::Op::mod;
      auto rhs = unary();
      if (!rhs) return nullptr;
      lhs = node(op, off, {lhs, rhs});
    }
    return lhs;
  }

  ExprPtr unary() {
    if (at("-")) {
      auto off = pos_++;
      if (!enter()) return nullptr;
      auto operand = unary();
      --depth_;
      if (!operand) return nullptr;
      return node(Expr::Op::neg, off, {operand});
    }
    return primary();
  }

  ExprPtr primary() {
    skip();
    if (pos_ >= s_.size()) return expected("an operand");
    char c = s_[pos_];
    if (is_digit(c)) return number_literal();
    if (c == '\'' || c == '"') return string_literal();
    if (c == '(') {
      ++pos_;
      if (!enter()) return nullptr;
      auto inner = or_();
      --depth_;
      if (!inner) return nullptr;
      if (!at(")")) return expected("')'");
      ++pos_;
      return inner;
    }
    if (is_ident_start(c)) return word();
    return expected("an operand");
  }

  ExprPtr literal(std::size_t off, boost::json::value v) {
    auto e = std::make_shared<Expr>();
    e->op = Expr::Op::literal;
    e->offset = off;
    e->value = std::move(v);
    return e;
  }

  ExprPtr number_literal() {
    auto start = pos_;
    bool integral = true;
    while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    if (pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
      integral = false;
      ++pos_;
      while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      auto p = pos_ + 1;
      if (p < s_.size() && (s_[p] == '+' || s_[p] == '-')) ++p;
      if (p < s_.size() && is_digit(s_[p])) {
        integral = false;
        pos_ = p;
        while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
      }
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    if (integral) {
      std::int64_t i = 0;
      auto r = std::from_chars(first, last, i);
      if (r.ec == std::errc() && r.ptr == last) return literal(start, i);
    }
    double d = 0;
    auto r = std::from_chars(first, last, d);
    if (r.ec != std::errc() || r.ptr != last) return fail(start, "expected a number that fits a double");
    return literal(start, d);
  }

  ExprPtr string_literal() {
    auto start = pos_;
    char quote = s_[pos_++];
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      char c = s_[pos_++];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) break;
      char e = s_[pos_];
      switch (e) {
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        default:
          return fail(pos_ - 1, fmt::format("expected an escape (\\\\ \\' \\\" \\n \\t), found '\\{}'", e));
      }
      ++pos_;
    }
    if (pos_ >= s_.size())
      return fail(pos_, fmt::format("expected the closing {} of the string at offset {}, found {}", quote, start,
                                    end_name_));
    ++pos_;
    return literal(start, boost::json::string(out));
  }

  std::string ident() {
    auto start = pos_;
    while (pos_ < s_.size() && is_ident_char(s_[pos_])) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  ExprPtr word() {
    auto start = pos_;
    auto w = ident();
    if (w == "true") return literal(start, true);
    if (w == "false") return literal(start, false);
    if (w == "null") return literal(start, nullptr);
    if (w == "input" || w == "vars" || w == "steps") return path(start, w);
    if (function_arity(w)) return call(start, w);
    if (at("("))
      return fail(start,
                  fmt::format("expected a function (len, lower, upper, contains, string, number), found '{}'", w));
    return fail(start, fmt::format("expected input, vars, steps, true, false, null or a function call, found '{}'", w));
  }

  ExprPtr path(std::size_t start, std::string root) {
    auto e = std::make_shared<Expr>();
    e->op = Expr::Op::path;
    e->offset = start;
    e->path.push_back(std::move(root));
    while (pos_ < s_.size()) {
      if (s_[pos_] == '.') {
        ++pos_;
        if (pos_ >= s_.size() || !is_ident_start(s_[pos_])) return expected("a field name after '.'");
        e->path.push_back(ident());
      } else if (s_[pos_] == '[') {
        ++pos_;
        auto digits = pos_;
        while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
        if (pos_ == digits) return expected("an index (digits) after '['");
        if (pos_ - digits > 9) return fail(digits, "expected an index below 1000000000");
        // Drop leading zeros so that [01] and [1] are the same path.
        auto idx = s_.substr(digits, pos_ - digits);
        while (idx.size() > 1 && idx.front() == '0') idx.remove_prefix(1);
        if (pos_ >= s_.size() || s_[pos_] != ']') return expected("']'");
        ++pos_;
        e->path.emplace_back(idx);
      } else {
        break;
      }
    }
    return e;
  }

  ExprPtr call(std::size_t start, std::string name) {
    if (!at("(")) return expected(fmt::format("'(' after {}", name));
    ++pos_;
    if (!enter()) return nullptr;
    std::vector<ExprPtr> args;
    while (true) {
      auto arg = or_();
      if (!arg) return nullptr;
      args.push_back(std::move(arg));
      if (!at(",")) break;
      ++pos_;
    }
    --depth_;
    if (!at(")")) return expected("',' or ')'");
    ++pos_;
    auto arity = *function_arity(name);
    if (args.size() != arity)
      return fail(start, fmt::format("expected {} argument{} to {}(), found {}", arity, arity == 1 ? "" : "s", name,
                                     args.size()));
    auto e = std::make_shared<Expr>();
    e->op = Expr::Op::call;
    e->offset = start;
    e->name = std::move(name);
    e->args = std::move(args);
    return e;
  }
};

void collect_paths(const Expr& e, std::vector<std::vector<std::string>>& out) {
  if (e.op == Expr::Op::path) out.push_back(e.path);
  for (const auto& a : e.args) collect_paths(*a, out);
}

}  // namespace

namespace detail {

const char* op_token(Expr::Op op) {
  switch (op) {
    case Expr::Op::not_: return "!";
    case Expr::Op::neg: return "-";
    case Expr::Op::or_: return "||";
    case Expr::Op::and_: return "&&";
    case Expr::Op::eq: return "==";
    case Expr::Op::ne: return "!=";
    case Expr::Op::lt: return "<";
    case Expr::Op::le: return "<=";
    case Expr::Op::gt: return ">";
    case Expr::Op::ge: return ">=";
    case Expr::Op::add: return "+";
    case Expr::Op::sub: return "-";
    case Expr::Op::mul: return "*";
    case Expr::Op::div: return "/";
    case Expr::Op::mod: return "%";
    default: return "?";
  }
}

Type type_of(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return Type::null;
    case boost::json::kind::bool_: return Type::boolean;
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return Type::number;
    case boost::json::kind::string: return Type::string;
    case boost::json::kind::array: return Type::array;
    case boost::json::kind::object: return Type::object;
  }
  return Type::any;
}

std::string describe_at(std::string_view text, std::size_t pos, std::string_view end_name) {
  if (pos >= text.size()) return std::string(end_name);
  // One whole UTF-8 character.
  auto lead = static_cast<unsigned char>(text[pos]);
  std::size_t n = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 1;
  return fmt::format("'{}'", text.substr(pos, n));
}

Result<ExprPtr> parse_prefix(std::string_view text, std::size_t& pos, std::string_view end_name) {
  Parser p(text, pos, end_name);
  auto e = p.parse();
  if (p.error()) return *p.error();
  p.skip();
  pos = p.pos();
  return e;
}

}  // namespace detail

Result<ExprPtr> parse_expression(std::string_view text) {
  std::size_t pos = 0;
  auto e = detail::parse_prefix(text, pos, "end of expression");
  if (!e) return e;
  if (pos < text.size()) {
    auto found = detail::describe_at(text, pos, "end of expression");
    std::string hint;
    if (text[pos] == '=') hint = " (equality is '==')";
    else if (text[pos] == '&' || text[pos] == '|') hint = " (use '&&' or '||')";
    return Error::invalid(fmt::format("at offset {}: expected an operator or end of expression, found {}{}", pos,
                                      found, hint));
  }
  return e;
}

std::string path_string(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& seg : path) {
    if (is_index(seg)) out += "[" + seg + "]";
    else {
      if (!out.empty()) out += ".";
      out += seg;
    }
  }
  return out;
}

std::vector<std::vector<std::string>> paths_of(const Expr& e) {
  std::vector<std::vector<std::string>> out;
  collect_paths(e, out);
  return out;
}

}  // namespace causeway::workflow
