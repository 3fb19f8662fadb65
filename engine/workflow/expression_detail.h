// Internal to engine/workflow, not a public interface: the parser shared by
// parse_expression() and parse_template(), and the text form of a value
// shared by string() and templates.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "engine/workflow/expression.h"

namespace causeway::workflow::detail {

// Parses the longest expression of `text` that starts at `pos` and leaves
// `pos` after it (blanks after it are skipped). Offsets in the tree and in
// error messages are into `text`. `end_name` is how the end of `text` is
// called in messages ("end of expression", "end of template").
Result<ExprPtr> parse_prefix(std::string_view text, std::size_t& pos, std::string_view end_name);

// "'x'" for the (UTF-8) character at `pos`, or `end_name` at the end.
std::string describe_at(std::string_view text, std::size_t pos, std::string_view end_name);

// "+" for Op::add and so on (operators only).
const char* op_token(Expr::Op op);
// The type of a run-time value (never any).
Type type_of(const boost::json::value& v);

// A value as text: a string as it is; anything else as compact JSON with
// numbers in their shortest decimal form (2.5, 100, 1e+20; a double never
// prints as "2.5E0"); null as "null".
std::string text_of(const boost::json::value& v);

}  // namespace causeway::workflow::detail
