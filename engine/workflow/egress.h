// Where a workflow's HTTP action may connect: the egress policy.
//
// A tenant writes the URL of its HTTP actions, and the server makes the call
// from inside its own network. So by default an action may reach only public
// addresses: every special-use address is refused — loopback, private
// (RFC 1918, carrier-grade NAT, IPv6 unique local), link-local (cloud metadata
// at 169.254.169.254 among them), multicast, broadcast, unspecified, and the
// other reserved ranges of the IANA special-purpose registries. IPv6 forms
// that carry an IPv4 address (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible,
// NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the IPv4 address inside.
//
// The operator trusts destinations with a CIDR list
// (`serve --workflow-http-allow`); an address in it is allowed whatever its
// class. The policy is applied by http_call to every address it would connect
// to, after name resolution, so a host name that resolves to loopback is
// refused like the literal. http_call never follows redirects.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <memory>
#include <optional>
#include <string_view>

#include "events/cidr.h"

namespace causeway::workflow {

// The special-use class of `a` ("loopback", "private", "link-local",
// "multicast", "broadcast", "unspecified", "reserved"), or nullopt for a
// public address.
std::optional<std::string_view> special_use_class(const boost::asio::ip::address& a);

class EgressPolicy {
 public:
  // Refuses every special-use address but those in `trusted`.
  explicit EgressPolicy(CidrList trusted = {}) : trusted_(std::move(trusted)) {}

  // nullopt when an action may connect to `a`; else the class that refuses it.
  std::optional<std::string_view> refusal(const boost::asio::ip::address& a) const;

  // The policy of a request that names none: special-use addresses refused,
  // nothing trusted.
  static std::shared_ptr<const EgressPolicy> strict();

 private:
  CidrList trusted_;
};

}  // namespace causeway::workflow
