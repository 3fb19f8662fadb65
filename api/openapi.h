// The API's own description, embedded at build time from schemas/openapi.yaml
// (tools/openapi/embed_openapi.py): as JSON, served at GET /v1/openapi.json,
// and as the file's own text, served at GET /v1/openapi.yaml.
#pragma once

#include <string_view>

namespace causeway::api {

std::string_view openapi_json();
std::string_view openapi_yaml();

}  // namespace causeway::api
