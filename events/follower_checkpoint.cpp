#include "events/follower_checkpoint.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace causeway {
namespace json = boost::json;

std::optional<PositionToken> parse_follower_checkpoint(std::string_view text, std::uint32_t partitions) {
  boost::system::error_code ec;
  auto saved = json::parse(text, ec);
  if (ec || !saved.is_object()) return std::nullopt;
  const auto* n = saved.as_object().if_contains("next");
  if (!n) return std::nullopt;
  PositionToken out;
  if (n->is_int64() && n->as_int64() > 0 && partitions == 1) {  // {"next": N}: before partitions
    out.offsets.push_back(static_cast<std::uint64_t>(n->as_int64()));
    return out;
  }
  if (!n->is_array() || n->as_array().size() != partitions) return std::nullopt;
  for (const auto& v : n->as_array()) {
    if (!v.is_int64() || v.as_int64() < 1) return std::nullopt;
    out.offsets.push_back(static_cast<std::uint64_t>(v.as_int64()));
  }
  return out;
}

std::string read_follower_checkpoint(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

PositionToken resume_point_of(EventLog& log, std::string_view text) {
  PositionToken from = log.head();
  from.offsets.resize(log.partitions(), 0);
  for (auto& n : from.offsets) n += 1;
  if (auto saved = parse_follower_checkpoint(text, log.partitions()))
    for (std::size_t p = 0; p < from.offsets.size(); ++p) from.offsets[p] = std::min(from.offsets[p], saved->offsets[p]);
  return from;
}

PositionToken resume_point(EventLog& log, const std::string& path) {
  return resume_point_of(log, read_follower_checkpoint(path));
}

Status save_follower_checkpoint(const std::string& path, const PositionToken& next, json::object with) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    json::array offsets;
    for (auto n : next.offsets) offsets.push_back(n);
    with["next"] = std::move(offsets);
    out << json::serialize(with);
    out.flush();
    if (!out) return Error::unavailable("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error::unavailable("cannot replace " + path + ": " + ec.message());
  return ok_status();
}

}  // namespace causeway
