#include "engine/workflow/egress.h"

#include <array>
#include <cstdint>

namespace causeway::workflow {
namespace ip = boost::asio::ip;

namespace {

struct Range {
  std::uint32_t base;
  int prefix;
  std::string_view cls;
};

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) { return a << 24 | b << 16 | c << 8 | d; }

// IANA IPv4 Special-Purpose Address Registry, by class; the first match wins.
constexpr std::array kV4Ranges{
    Range{v4(255, 255, 255, 255), 32, "broadcast"},
    Range{v4(0, 0, 0, 0), 8, "unspecified"},  // "this network"
    Range{v4(127, 0, 0, 0), 8, "loopback"},
    Range{v4(10, 0, 0, 0), 8, "private"},
    Range{v4(172, 16, 0, 0), 12, "private"},
    Range{v4(192, 168, 0, 0), 16, "private"},
    Range{v4(100, 64, 0, 0), 10, "private"},  // carrier-grade NAT, shared address space
    Range{v4(169, 254, 0, 0), 16, "link-local"},
    Range{v4(224, 0, 0, 0), 4, "multicast"},
    Range{v4(240, 0, 0, 0), 4, "reserved"},
    Range{v4(192, 0, 0, 0), 24, "reserved"},  // IETF protocol assignments
    Range{v4(192, 0, 2, 0), 24, "reserved"},  // documentation
    Range{v4(198, 51, 100, 0), 24, "reserved"},
    Range{v4(203, 0, 113, 0), 24, "reserved"},
    Range{v4(198, 18, 0, 0), 15, "reserved"},  // benchmarking
    Range{v4(192, 88, 99, 0), 24, "reserved"},  // 6to4 relay anycast (deprecated)
};

std::optional<std::string_view> v4_class(const ip::address_v4& a) {
  const std::uint32_t x = a.to_uint();
  for (const auto& r : kV4Ranges) {
    const std::uint32_t mask = r.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - r.prefix);
    if ((x & mask) == r.base) return r.cls;
  }
  return std::nullopt;
}

ip::address_v4 v4_at(const ip::address_v6::bytes_type& b, std::size_t at) {
  return ip::address_v4(ip::address_v4::bytes_type{b[at], b[at + 1], b[at + 2], b[at + 3]});
}

bool zero(const ip::address_v6::bytes_type& b, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i)
    if (b[i]) return false;
  return true;
}

// The IPv4 address an IPv6 form carries and delivers to, if any.
std::optional<ip::address_v4> embedded_v4(const ip::address_v6& a) {
  const auto b = a.to_bytes();
  if (a.is_v4_mapped()) return v4_at(b, 12);                             // ::ffff:a.b.c.d
  if (zero(b, 0, 12) && !zero(b, 12, 14)) return v4_at(b, 12);          // ::a.b.c.d (deprecated)
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && zero(b, 4, 12))
    return v4_at(b, 12);                                                 // 64:ff9b::/96, NAT64
  if (b[0] == 0x20 && b[1] == 0x02) return v4_at(b, 2);                 // 2002::/16, 6to4
  return std::nullopt;
}

std::optional<std::string_view> v6_class(const ip::address_v6& a) {
  if (a.is_unspecified()) return "unspecified";
  if (a.is_loopback()) return "loopback";
  if (auto inner = embedded_v4(a)) return v4_class(*inner);
  const auto b = a.to_bytes();
  if (b[0] == 0xff) return "multicast";                                  // ff00::/8
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";        // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "private";           // fec0::/10, site-local
  if ((b[0] & 0xfe) == 0xfc) return "private";                           // fc00::/7, unique local
  if (zero(b, 0, 12)) return "reserved";                                 // the rest of ::/96
  if (b[0] == 0x01 && zero(b, 1, 8)) return "reserved";                  // 100::/64, discard
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return "reserved";  // documentation
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> special_use_class(const ip::address& a) {
  return a.is_v4() ? v4_class(a.to_v4()) : v6_class(a.to_v6());
}

std::optional<std::string_view> EgressPolicy::refusal(const ip::address& a) const {
  auto cls = special_use_class(a);
  if (!cls) return std::nullopt;
  if (trusted_.contains(a)) return std::nullopt;
  if (a.is_v6())
    if (auto inner = embedded_v4(a.to_v6()); inner && trusted_.contains(ip::address(*inner))) return std::nullopt;
  return cls;
}

std::shared_ptr<const EgressPolicy> EgressPolicy::strict() {
  static const auto policy = std::make_shared<const EgressPolicy>();
  return policy;
}

}  // namespace causeway::workflow
