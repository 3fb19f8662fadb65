// Every response a test receives from Causeway is checked against the API's
// document, schemas/openapi.yaml (as the server embeds it: api::openapi_json()),
// so that a drift between the server and the document fails the test that saw
// it. Every test executable links openapi_conformance.cpp, which makes this
// HttpClient's response_observer() (tests/support/http_client.h).
//
// The checks, for a request whose path is one of the document's (a concrete
// path wins over a template: /v1/views/audit over /v1/views/{view}):
//   - the path has no operation for the method: the answer is 405;
//   - the status is listed for the operation (exactly, as 4XX/5XX, or default);
//   - a body comes with a content type listed for that status (parameters
//     such as charset ignored), and a status listed without content has none;
//   - a JSON body (application/json, application/problem+json, any +json) is
//     valid against that content's schema (local $refs followed).
// A path the document does not have (a probe of an unknown route) is not
// checked here: the tests that send one check its 404 themselves.
//
// Thread safety: may be called from any number of threads at once.
#pragma once

#include <string>

namespace causeway::testing {

// Empty when the response agrees with the document, else what disagrees
// (one line per problem, starting with the method and target).
std::string openapi_disagreement(const std::string& method, const std::string& target, int status,
                                 const std::string& content_type, const std::string& body);

}  // namespace causeway::testing
