// Structured JSON logs on spdlog: one JSON object per line.
//
// Callers pass fields, never free text built from requests: no request bodies,
// tokens, passwords, emails or names are ever logged (grep for log_fields to
// audit every call site).
#pragma once

#include <boost/json/object.hpp>
#include <spdlog/common.h>
#include <string_view>

namespace causeway {

void init_json_logging(std::string_view level);
void log_fields(spdlog::level::level_enum level, std::string_view msg, boost::json::object fields = {});

}  // namespace causeway
