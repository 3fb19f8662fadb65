// The calls the tenant matrices make: one request per route of a resource.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <string>
#include <vector>

namespace causeway::testing {

struct RouteCall {
  boost::beast::http::verb verb;
  std::string path;
  std::string body;
};

// Every subscription and flag route of the organization at `base` ("/v1/organizations/<org>").
inline std::vector<RouteCall> subscription_calls(const std::string& base) {
  using boost::beast::http::verb;
  return {
      {verb::get, base + "/subscription", ""},
      {verb::post, base + "/subscription/trial", R"({"plan":"pro"})"},
      {verb::put, base + "/subscription/plan", R"({"plan":"pro"})"},
      {verb::post, base + "/subscription/cancellation", "{}"},
      {verb::delete_, base + "/subscription/cancellation", ""},
      {verb::get, base + "/flags", ""},
      {verb::get, base + "/flags/visual_builder_v2", ""},
  };
}

}  // namespace causeway::testing
