// The check every HTTP test's responses go through (support/openapi_conformance.h)
// must itself be able to fail: each kind of drift it reports, reported.
#include <doctest/doctest.h>

#include "support/openapi_conformance.h"

using causeway::testing::openapi_disagreement;

namespace {
const std::string kProblem =
    R"({"type":"https://causeway.dev/problems/not-found","title":"Not Found","status":404,"detail":"no such organization",)"
    R"("instance":"/v1/organizations/org-1","request_id":"r1"})";
const std::string kOrg = "/v1/organizations/org-0123456789abcdef0123456789abcdef";
}  // namespace

TEST_CASE("the document check passes a response the document lists and reports each kind of drift") {
  CHECK(openapi_disagreement("GET", kOrg, 404, "application/problem+json", kProblem).empty());
  // A status the operation does not list.
  CHECK(openapi_disagreement("GET", kOrg, 418, "application/problem+json", kProblem).find("does not list") !=
        std::string::npos);
  // A content type the status does not list.
  CHECK(openapi_disagreement("GET", kOrg, 404, "text/html", "<p>gone</p>").find("not a content type") !=
        std::string::npos);
  // A body off its schema: a required field missing, a field of the wrong type.
  CHECK(openapi_disagreement("GET", kOrg, 404, "application/problem+json", R"({"title":"Not Found"})").find("body") !=
        std::string::npos);
  CHECK_FALSE(openapi_disagreement("GET", kOrg + "?x=1", 404, "application/problem+json; charset=utf-8",
                                   R"({"type":"t","title":"Not Found","status":"404","detail":"d","instance":"",)"
                                   R"("request_id":""})")
                  .empty());
  // A method the path has no operation for must be answered 405.
  CHECK(openapi_disagreement("PATCH", "/healthz", 405, "application/problem+json", kProblem).empty());
  CHECK_FALSE(openapi_disagreement("PATCH", "/healthz", 404, "application/problem+json", kProblem).empty());
  // A path the document does not have is left to the test that probes it.
  CHECK(openapi_disagreement("GET", "/v1/no-such-thing", 404, "application/problem+json", kProblem).empty());
}

TEST_CASE("the document check prefers a concrete path to a template and matches media types without parameters") {
  // /v1/views/audit is its own operation, whose reason makes a 400 with a problem body.
  CHECK(openapi_disagreement("GET", "/v1/views/audit?reason=x", 400, "application/problem+json", kProblem).empty());
  CHECK(openapi_disagreement("GET", "/v1/admin/metrics", 200, "text/plain; version=0.0.4", "up 1\n").empty());
}
