#include "engine/workflow/templates.h"

#include <string_view>

#include "engine/schema_registry.h"

namespace causeway::workflow {

namespace {
constexpr std::string_view kPrefix = "workflows/templates/";
constexpr std::string_view kSuffix = ".json";

// The template name of an embedded path, or empty.
std::string_view name_of(std::string_view path) {
  if (path.size() <= kPrefix.size() + kSuffix.size() || path.substr(0, kPrefix.size()) != kPrefix ||
      path.substr(path.size() - kSuffix.size()) != kSuffix)
    return {};
  return path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
}
}  // namespace

std::vector<std::string> template_names() {
  std::vector<std::string> out;
  for (const auto& s : embedded_schemas())
    if (auto n = name_of(s.path); !n.empty()) out.emplace_back(n);
  return out;
}

std::optional<std::string> template_text(const std::string& name) {
  for (const auto& s : embedded_schemas())
    if (name_of(s.path) == name) return std::string(s.text);
  return std::nullopt;
}

}  // namespace causeway::workflow
