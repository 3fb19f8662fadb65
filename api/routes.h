// Api: the HTTP routes, as a pure function from request to response.
//
//   GET   /healthz                                  liveness + log head
//   POST  /v1/users                                 user.signup
//   POST  /v1/organizations                         organization.create
//   PATCH /v1/organizations/{org_id}                organization.rename (If-Match)
//   GET   /v1/admin/streams/{stream}/events         admin read of one stream
//
// Every command response carries its position token in the body ("position")
// and the Causeway-Position header. Every error is problem+json (problem.h).
// The session plumbing (timeouts, limits, keep-alive) is in server.h.
//
// Thread safety: handle() may run concurrently on any number of strands.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/url_view.hpp>
#include <string>

#include "api/config.h"
#include "api/problem.h"
#include "engine/pipeline.h"

namespace causeway::api {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

class Api {
 public:
  // `admin_token` is kept only as a hash; presented tokens are hashed and
  // compared in constant time.
  Api(CommandPipeline& pipeline, EventLog& log, KeyVault& vault, const ServerConfig& cfg,
      const std::string& admin_token);

  boost::asio::awaitable<Response> handle(Request req);

 private:
  boost::asio::awaitable<Response> route(Request& req, const std::string& request_id, std::string& route_name);
  boost::asio::awaitable<Response> command(Request& req, const std::string& request_id, const std::string& name,
                                           std::string target);
  Response stream_events(const Request& req, const std::string& request_id, const std::string& stream,
                         const boost::urls::url_view& url);
  bool is_admin(const Request& req) const;

  CommandPipeline& pipeline_;
  EventLog& log_;
  KeyVault& vault_;
  const ServerConfig& cfg_;
  std::array<unsigned char, 32> admin_hash_{};
};

}  // namespace causeway::api
