// Traits binding each aggregate's pure functions to AggregateStore::load<A>().
#pragma once

#include "engine/aggregates/api_key.h"
#include "engine/aggregates/organization.h"
#include "engine/aggregates/subject.h"
#include "engine/aggregates/user.h"

namespace causeway {

struct UserAggregate {
  using State = user::State;
  static constexpr std::uint32_t kStateFormat = user::kStateFormat;
  static void apply(State& s, const std::string& t, const boost::json::object& d, std::int64_t at) {
    user::apply(s, t, d, at);
  }
};

struct OrganizationAggregate {
  using State = organization::State;
  static constexpr std::uint32_t kStateFormat = organization::kStateFormat;
  static void apply(State& s, const std::string& t, const boost::json::object& d, std::int64_t at) {
    organization::apply(s, t, d, at);
  }
};

struct ApiKeyAggregate {
  using State = api_key::State;
  static constexpr std::uint32_t kStateFormat = api_key::kStateFormat;
  static void apply(State& s, const std::string& t, const boost::json::object& d, std::int64_t at) {
    api_key::apply(s, t, d, at);
  }
};

struct SubjectAggregate {
  using State = subject::State;
  static constexpr std::uint32_t kStateFormat = subject::kStateFormat;
  static void apply(State& s, const std::string& t, const boost::json::object& d, std::int64_t at) {
    subject::apply(s, t, d, at);
  }
};

struct DsrAggregate {
  using State = dsr::State;
  static constexpr std::uint32_t kStateFormat = dsr::kStateFormat;
  static void apply(State& s, const std::string& t, const boost::json::object& d, std::int64_t at) {
    dsr::apply(s, t, d, at);
  }
};

inline std::string json_string(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace causeway
