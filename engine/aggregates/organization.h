// The organization aggregate (stream "org-<id>"): creation and rename. Pure.
#pragma once

#include <cstdint>
#include <string>

#include "engine/decision.h"
#include "events/result.h"

namespace causeway::organization {

struct State {
  bool exists = false;
  std::string slug;
  std::string name;
  std::string owner_user_id;
  template <class Ar>
  void serialize(Ar& ar) { ar(exists, slug, name, owner_user_id); }
};
inline constexpr std::uint32_t kStateFormat = 1;

struct Create {
  std::string org_id;  // "org-<32 hex>", chosen by the caller
  std::string slug;
  std::string name;
  std::string owner_user_id;
  bool owner_exists = false;  // looked up by the caller before deciding
};

struct Rename {
  std::string name;
};

Result<Decision> decide(const State& s, const Create& c, std::int64_t now_us);
Result<Decision> decide(const State& s, const Rename& c, const std::string& org_id, std::int64_t now_us);
void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

}  // namespace causeway::organization
