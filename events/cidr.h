// CIDR lists (e.g. "127.0.0.0/8,::1/128"): which peer addresses may use the
// admin routes and the admin token (ServerConfig::admin_allow), and which
// destinations a workflow's HTTP action may reach although they are
// special-use (ServerConfig::workflow_http_allow, engine/workflow/egress.h).
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is matched as its IPv4 address.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <string>
#include <variant>
#include <vector>

#include "events/result.h"

namespace causeway {

class CidrList {
 public:
  // A comma-separated list; empty allows every address.
  static Result<CidrList> parse(const std::string& text);
  // parse(), or a list that allows nothing when `text` is malformed (fail closed).
  static CidrList parse_or_deny(const std::string& text);
  bool allows(const std::string& address) const;
  // Whether `address` is in one of the networks (an empty list contains nothing).
  bool contains(boost::asio::ip::address address) const;
  bool empty() const { return nets_.empty() && !deny_all_; }

 private:
  bool deny_all_ = false;
  std::vector<std::variant<boost::asio::ip::network_v4, boost::asio::ip::network_v6>> nets_;
};

}  // namespace causeway
