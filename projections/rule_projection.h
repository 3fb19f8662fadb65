// RuleProjection: a projection written as data — for each event type, the SQL
// statements to run and how to bind their parameters from the event.
//
// Rules run in declaration order. A rule with type "*" matches every event.
// Statements are plain SQL (upserts, INSERT OR IGNORE, changes()), so a view's
// whole behaviour reads in one place next to its schema.
#pragma once

#include <functional>
#include <unordered_map>

#include "projections/projection.h"

namespace causeway {

struct Rule {
  std::string type;  // event type, or "*" for every event
  std::string sql;
  std::function<void(sql::Stmt&, const Event&, const boost::json::object&)> bind;
};

class RuleProjection : public Projection {
 public:
  RuleProjection(std::string name, int version, std::vector<std::string> tables, std::vector<Rule> rules);

  std::string name() const override { return name_; }
  int version() const override { return version_; }
  std::vector<std::string> tables() const override { return tables_; }
  bool consumes(std::string_view type) const override;
  Status attach(sql::Db& db) override;
  Status apply(const Event& e, const boost::json::object& data) override;

 private:
  std::string name_;
  int version_;
  std::vector<std::string> tables_;
  std::vector<Rule> rules_;
  std::vector<sql::Stmt> stmts_;  // one per rule, prepared by attach()
  // The rules that match each named type, in declaration order ("*" rules
  // included), and those that match any other type (the "*" rules).
  struct TypeHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<std::size_t>, TypeHash, std::equal_to<>> by_type_;
  std::vector<std::size_t> any_type_;
};

}  // namespace causeway
