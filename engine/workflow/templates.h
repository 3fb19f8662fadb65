// The template library shipped with the product: workflow definitions in
// schemas/workflows/templates/<name>.json, embedded in the binary. A user
// instantiates one with workflow.create {"template": "<name>"}.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace causeway::workflow {

std::vector<std::string> template_names();  // sorted
std::optional<std::string> template_text(const std::string& name);

}  // namespace causeway::workflow
