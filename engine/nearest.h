// "Did you mean …?": the candidate nearest to a word that is probably a typo
// of it. Shared by the workflow validator and the schema checks of commands.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causeway {

// Edit distance counting a swap of two neighbours as one edit (optimal string
// alignment).
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate nearest to `word` when it is near enough to be a typo (at
// most max(2, |word| / 3) edits); never `word` itself.
std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace causeway
