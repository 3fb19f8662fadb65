#include "events/cidr.h"

#include <fmt/format.h>

namespace causeway {
namespace ip = boost::asio::ip;

Result<CidrList> CidrList::parse(const std::string& text) {
  CidrList out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    start = end + 1;
    if (item.empty()) continue;
    boost::system::error_code ec;
    if (item.find(':') != std::string::npos) {
      auto n = ip::make_network_v6(item, ec);
      if (ec) return Error::invalid(fmt::format("{} is not an IPv6 CIDR such as ::1/128", item));
      out.nets_.emplace_back(n.canonical());
    } else {
      auto n = ip::make_network_v4(item, ec);
      if (ec) return Error::invalid(fmt::format("{} is not an IPv4 CIDR such as 10.0.0.0/8", item));
      out.nets_.emplace_back(n.canonical());
    }
  }
  return out;
}

CidrList CidrList::parse_or_deny(const std::string& text) {
  auto parsed = parse(text);
  if (parsed) return std::move(parsed).value();
  CidrList none;
  none.deny_all_ = true;
  return none;
}

bool CidrList::allows(const std::string& address) const {
  if (deny_all_) return false;
  if (nets_.empty()) return true;
  boost::system::error_code ec;
  auto a = ip::make_address(address, ec);
  if (ec) return false;
  return contains(a);
}

bool CidrList::contains(ip::address a) const {
  if (deny_all_) return false;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = ip::make_address_v4(ip::v4_mapped, a.to_v6());
  for (const auto& n : nets_) {
    if (auto* v4 = std::get_if<ip::network_v4>(&n); v4 && a.is_v4()) {
      if (ip::network_v4(a.to_v4(), v4->prefix_length()).canonical() == *v4) return true;
    } else if (auto* v6 = std::get_if<ip::network_v6>(&n); v6 && a.is_v6()) {
      if (ip::network_v6(a.to_v6(), v6->prefix_length()).canonical() == *v6) return true;
    }
  }
  return false;
}

}  // namespace causeway
