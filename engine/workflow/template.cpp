// Templates: literal text with "{{ expression }}" parts (expression.h).
#include <fmt/format.h>

#include "engine/workflow/expression.h"
#include "engine/workflow/expression_detail.h"

namespace causeway::workflow {

Result<Template> parse_template(std::string_view text) {
  Template t;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto open = text.find("{{", pos);
    if (open == std::string_view::npos) open = text.size();
    if (open > pos) t.parts.push_back({std::string(text.substr(pos, open - pos)), nullptr, pos});
    if (open == text.size()) break;
    std::size_t at = open + 2;
    auto e = detail::parse_prefix(text, at, "end of template");
    if (!e) return std::move(e).error();
    if (text.substr(at, 2) != "}}")
      return Error::invalid(fmt::format("at offset {}: expected '}}}}' to close the '{{{{' at offset {}, found {}", at,
                                        open, detail::describe_at(text, at, "end of template")));
    t.parts.push_back({{}, std::move(e).value(), open});
    pos = at + 2;
  }
  return t;
}

Result<std::string> render(const Template& t, const boost::json::object& context) {
  std::string out;
  for (const auto& part : t.parts) {
    if (!part.expr) {
      out += part.text;
      continue;
    }
    auto v = evaluate(*part.expr, context);
    if (!v) return std::move(v).error();
    out += detail::text_of(*v);
  }
  return out;
}

std::vector<CheckProblem> check_problems(const Template& t, const TypeEnv& env) {
  std::vector<CheckProblem> out;
  for (const auto& part : t.parts)
    if (part.expr)
      for (auto& p : check_problems(*part.expr, env, nullptr)) out.push_back(std::move(p));
  return out;
}

std::vector<std::string> check(const Template& t, const TypeEnv& env) {
  std::vector<std::string> out;
  for (auto& p : check_problems(t, env)) out.push_back(std::move(p.message));
  return out;
}

std::vector<std::vector<std::string>> paths_of(const Template& t) {
  std::vector<std::vector<std::string>> out;
  for (const auto& part : t.parts)
    if (part.expr)
      for (auto& p : paths_of(*part.expr)) out.push_back(std::move(p));
  return out;
}

}  // namespace causeway::workflow
