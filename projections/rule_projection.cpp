#include "projections/rule_projection.h"

#include <fmt/format.h>

namespace causeway {

RuleProjection::RuleProjection(std::string name, int version, std::vector<std::string> tables, std::vector<Rule> rules)
    : name_(std::move(name)), version_(version), tables_(std::move(tables)), rules_(std::move(rules)) {
  for (const auto& r : rules_)
    if (r.type != "*") by_type_.try_emplace(r.type);
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].type == "*") {
      any_type_.push_back(i);
      for (auto& [type, list] : by_type_) list.push_back(i);
    } else {
      by_type_[rules_[i].type].push_back(i);
    }
  }
}

bool RuleProjection::consumes(std::string_view type) const {
  return !any_type_.empty() || by_type_.contains(type);
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
  const auto it = by_type_.find(e.type);
  for (const std::size_t i : it == by_type_.end() ? any_type_ : it->second) {
    rules_[i].bind(stmts_[i], e, data);
    if (auto st = stmts_[i].run(); !st) return st;
  }
  return ok_status();
}

}  // namespace causeway
