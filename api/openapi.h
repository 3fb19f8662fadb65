// The API's own description: schemas/openapi.yaml as JSON, embedded at build
// time (tools/openapi/embed_openapi.py) and served at GET /v1/openapi.json.
#pragma once

#include <string_view>

namespace causeway::api {

std::string_view openapi_json();

}  // namespace causeway::api
