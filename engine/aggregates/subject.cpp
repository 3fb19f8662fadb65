#include "engine/aggregates/subject.h"

#include <fmt/format.h>

namespace causeway::subject {

std::string stream_of(const std::string& user_id) {
  if (user_id.rfind("user-", 0) != 0 || user_id.size() <= 5) return {};
  return "subject-" + user_id.substr(5);
}

namespace {

DraftEvent event(const char* type, const std::string& user_id) {
  DraftEvent e;
  e.type = type;
  e.data["user_id"] = user_id;
  e.subjects = {user_id};
  return e;
}

}  // namespace

Result<Decision> decide_place_hold(const State& s, const std::string& user_id, bool user_exists,
                                   const std::string& reason) {
  if (!user_exists) return Error::not_found("no such user");
  if (s.forgotten) return Error::conflict("the subject is already erased");
  if (s.erasure_requested) return Error::conflict("the subject's erasure is in progress; retry the erasure");
  Decision d;
  if (s.hold_active && s.hold_reason == reason) return d;  // nothing changes
  auto e = event("subject.hold_placed", user_id);
  e.data["reason"] = reason;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_release_hold(const State& s, const std::string& user_id, bool user_exists,
                                     const std::string& reason) {
  if (!user_exists) return Error::not_found("no such user");
  Decision d;
  if (!s.hold_active) return d;  // no hold: nothing changes
  auto e = event("subject.hold_released", user_id);
  if (!reason.empty()) e.data["reason"] = reason;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_erase(const State& s, const std::string& user_id, bool user_exists, const std::string& reason) {
  if (!user_exists) return Error::not_found("no such user");
  Decision d;
  if (s.erasure_requested || s.forgotten) return d;  // a retry: the caller completes the remaining steps
  if (s.hold_active)
    return Error::conflict(fmt::format("the subject is under a legal hold ({}); release it first", s.hold_reason));
  auto e = event("subject.erasure_requested", user_id);
  e.data["reason"] = reason;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_complete_erasure(const State& s, const std::string& user_id) {
  Decision d;
  if (!s.erasure_requested || s.forgotten) return d;
  d.events.push_back(event("subject.forgotten", user_id));
  return d;
}

Result<Decision> decide_export(const State&, const std::string& user_id, bool user_exists, const std::string& reason) {
  if (!user_exists) return Error::not_found("no such user");
  Decision d;
  auto e = event("subject.exported", user_id);
  e.data["reason"] = reason;
  d.events.push_back(std::move(e));
  return d;
}

void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t) {
  if (type == "subject.hold_placed") {
    s.hold_active = true;
    auto* r = data.if_contains("reason");
    s.hold_reason = r && r->is_string() ? std::string(r->as_string()) : std::string();
  } else if (type == "subject.hold_released") {
    s.hold_active = false;
    s.hold_reason.clear();
  } else if (type == "subject.erasure_requested") {
    s.erasure_requested = true;
  } else if (type == "subject.forgotten") {
    s.forgotten = true;
  }
}

}  // namespace causeway::subject

namespace causeway::dsr {

namespace {

std::int64_t i64_of(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : 0;
}

}  // namespace

Result<Decision> decide_open(const std::string& request_id, const std::string& subject, bool user_exists,
                             const std::string& kind, std::int64_t now_us) {
  if (!user_exists) return Error::not_found("no such user");
  DraftEvent e;
  e.type = "dsr.opened";
  e.data["request_id"] = request_id;
  e.data["subject"] = subject;
  e.data["kind"] = kind;
  e.data["opened_at_us"] = now_us;
  e.data["due_at_us"] = now_us + kDueDays * kDayUs;
  e.subjects = {subject};
  Decision d;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_extend(const State& s, const std::string& request_id, std::int64_t days,
                               const std::string& reason) {
  if (!s.exists) return Error::not_found("no such data subject request");
  if (s.closed) return Error::conflict("the request is closed");
  if (s.extended) return Error::conflict("the request was already extended once (Art. 12(3))");
  DraftEvent e;
  e.type = "dsr.extended";
  e.data["request_id"] = request_id;
  e.data["due_at_us"] = s.due_at_us + days * kDayUs;
  e.data["reason"] = reason;
  e.subjects = {s.subject};
  Decision d;
  d.events.push_back(std::move(e));
  return d;
}

Result<Decision> decide_close(const State& s, const std::string& request_id, const std::string& outcome,
                              const std::string& reason) {
  if (!s.exists) return Error::not_found("no such data subject request");
  Decision d;
  if (s.closed) return d;  // closing twice writes nothing
  DraftEvent e;
  e.type = "dsr.closed";
  e.data["request_id"] = request_id;
  e.data["outcome"] = outcome;
  e.data["reason"] = reason;
  e.subjects = {s.subject};
  d.events.push_back(std::move(e));
  return d;
}

Status check_fulfils(const State& s, const std::string& subject, const std::string& action) {
  if (!s.exists) return Error::invalid("no such data subject request", "/request_id");
  if (s.subject != subject) return Error::invalid("the data subject request is about another subject", "/request_id");
  const bool fits = action == "erasure" ? s.kind == "erasure" : (s.kind == "access" || s.kind == "portability");
  if (!fits)
    return Error::invalid(fmt::format("a {} request is not fulfilled by an {}", s.kind, action), "/request_id");
  if (s.closed) return Error::conflict("the data subject request is already closed");
  return ok_status();
}

void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t) {
  if (type == "dsr.opened") {
    s.exists = true;
    auto* v = data.if_contains("subject");
    s.subject = v && v->is_string() ? std::string(v->as_string()) : std::string();
    auto* k = data.if_contains("kind");
    s.kind = k && k->is_string() ? std::string(k->as_string()) : std::string();
    s.due_at_us = i64_of(data, "due_at_us");
  } else if (type == "dsr.extended") {
    s.extended = true;
    s.due_at_us = i64_of(data, "due_at_us");
  } else if (type == "dsr.closed") {
    s.closed = true;
  }
}

}  // namespace causeway::dsr
