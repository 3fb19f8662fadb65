// CIDR allowlists (e.g. "127.0.0.0/8,::1/128"): which peer addresses may use
// the admin routes and the admin token (ServerConfig::admin_allow).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <string>
#include <variant>
#include <vector>

#include "events/result.h"

namespace causeway::api {

class CidrList {
 public:
  // A comma-separated list; empty allows every address.
  static Result<CidrList> parse(const std::string& text);
  // parse(), or a list that allows nothing when `text` is malformed (fail closed).
  static CidrList parse_or_deny(const std::string& text);
  bool allows(const std::string& address) const;
  bool empty() const { return nets_.empty() && !deny_all_; }

 private:
  bool deny_all_ = false;
  std::vector<std::variant<boost::asio::ip::network_v4, boost::asio::ip::network_v6>> nets_;
};

}  // namespace causeway::api
