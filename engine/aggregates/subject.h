// The data subject aggregate (stream "subject-<32 hex>", for user "user-<32 hex>"):
// legal holds and erasure (contract 7). Pure functions only. Tenant: none.
//
// No payload holds personal data; every event's subjects are [user id].
// Erasure is a three-step flow driven by api/gdpr_routes.cpp:
//   subject.erasure_requested (refused while a hold is active)
//   -> KeyVault::forget (outside the log)
//   -> subject.forgotten (the tombstone).
// Every decide is idempotent so a retried request completes missing steps.
#pragma once

#include <cstdint>
#include <string>

#include "engine/decision.h"
#include "events/result.h"

namespace causeway::subject {

struct State {
  bool hold_active = false;
  std::string hold_reason;
  bool erasure_requested = false;
  bool forgotten = false;
  template <class Ar>
  void serialize(Ar& ar) { ar(hold_active, hold_reason, erasure_requested, forgotten); }
};
inline constexpr std::uint32_t kStateFormat = 1;

// "user-<hex>" -> "subject-<hex>"; empty when `user_id` is not a user id.
std::string stream_of(const std::string& user_id);

// `user_exists` is looked up by the caller (UserAggregate) before deciding.
Result<Decision> decide_place_hold(const State& s, const std::string& user_id, bool user_exists,
                                   const std::string& reason);
Result<Decision> decide_release_hold(const State& s, const std::string& user_id, bool user_exists,
                                     const std::string& reason);
Result<Decision> decide_erase(const State& s, const std::string& user_id, bool user_exists, const std::string& reason);
Result<Decision> decide_complete_erasure(const State& s, const std::string& user_id);
Result<Decision> decide_export(const State& s, const std::string& user_id, bool user_exists, const std::string& reason);
void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

}  // namespace causeway::subject

// A data subject request (GDPR Art. 15/17/20) and its legal deadline: stream
// "dsr-<32 hex>", tenant none, every event's subjects = [user id], no personal
// data in payloads. Due one month (30 days) after opening; extendable once
// (Art. 12(3)); closing twice writes nothing. Driven by api/gdpr_routes.cpp.
namespace causeway::dsr {

inline constexpr std::int64_t kDayUs = 86'400'000'000;
inline constexpr std::int64_t kDueDays = 30;

struct State {
  bool exists = false;
  std::string subject;
  std::string kind;  // access | erasure | portability
  bool extended = false;
  bool closed = false;
  std::int64_t due_at_us = 0;
  template <class Ar>
  void serialize(Ar& ar) { ar(exists, subject, kind, extended, closed, due_at_us); }
};
inline constexpr std::uint32_t kStateFormat = 2;  // 2: kind

// Whether the open request `s` may be fulfilled by an `action` ("erasure" or
// "export") on `subject`: a reason to refuse (Errc::invalid on "/request_id",
// or Errc::conflict once closed), or ok.
Status check_fulfils(const State& s, const std::string& subject, const std::string& action);

// `user_exists` is looked up by the caller before deciding.
Result<Decision> decide_open(const std::string& request_id, const std::string& subject, bool user_exists,
                             const std::string& kind, std::int64_t now_us);
Result<Decision> decide_extend(const State& s, const std::string& request_id, std::int64_t days,
                               const std::string& reason);
Result<Decision> decide_close(const State& s, const std::string& request_id, const std::string& outcome,
                              const std::string& reason);
void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

}  // namespace causeway::dsr
