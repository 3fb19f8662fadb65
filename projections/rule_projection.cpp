#include "projections/rule_projection.h"

#include <fmt/format.h>

namespace causeway {

bool RuleProjection::consumes(std::string_view type) const {
  for (const auto& r : rules_)
    if (r.type == "*" || r.type == type) return true;
  return false;
}

Status RuleProjection::attach(sql::Db& db) {
  stmts_.clear();
  for (const auto& r : rules_) {
    auto s = db.prepare(r.sql);
    if (!s) return Error{s.error().code, fmt::format("projection {}: {}", name_, s.error().message), {}};
    stmts_.push_back(std::move(s).value());
  }
  return ok_status();
}

Status RuleProjection::apply(const Event& e, const boost::json::object& data) {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].type != "*" && rules_[i].type != e.type) continue;
    rules_[i].bind(stmts_[i], e, data);
    if (auto st = stmts_[i].run(); !st) return st;
  }
  return ok_status();
}

}  // namespace causeway
