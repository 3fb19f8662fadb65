#include "projections/views/usage_view.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>
#include <tuple>

namespace causeway {
namespace {

// (tenant, metric, month)
using MeterKey = std::tuple<std::string, std::string, std::string>;

struct Meter {
  std::int64_t count = 0, sum = 0;
};

class UsageProjection final : public Projection {
 public:
  std::string name() const override { return "usage"; }
  int version() const override { return 1; }
  bool consumes(std::string_view) const override { return true; }
  std::vector<std::string> tables() const override { return {"usage_meters", "usage_uniques"}; }

  Status attach(sql::Db& db) override {
    db_ = &db;
    auto unique = db.prepare("INSERT OR IGNORE INTO usage_uniques(tenant, metric, month, value) VALUES (?,?,?,?)");
    if (!unique) return prefixed(std::move(unique).error());
    auto meter = db.prepare(
        "INSERT INTO usage_meters(tenant, metric, month, count, sum, unique_count) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT(tenant, metric, month) DO UPDATE SET count = count + excluded.count, "
        "sum = sum + excluded.sum, unique_count = unique_count + excluded.unique_count");
    if (!meter) return prefixed(std::move(meter).error());
    unique_.emplace(std::move(unique).value());
    meter_.emplace(std::move(meter).value());
    return ok_status();
  }

  Status apply(const Event& e, const boost::json::object&) override {
    const std::string month = month_of(e.occurred_at_us);
    const auto bytes = static_cast<std::int64_t>(e.data.size());
    add(MeterKey{e.tenant, "events", month}, bytes, e.actor.id);
    add(MeterKey{e.tenant, e.type, month}, bytes, e.stream);
    return ok_status();
  }

  // The distinct values first: each one that is new this month adds 1 to its
  // meter's unique_count, as changes() did event by event.
  Status flush() override {
    std::map<MeterKey, std::int64_t> fresh;
    for (const auto& [key, value] : values_) {
      const auto& [tenant, metric, month] = key;
      unique_->bind_all(tenant, metric, month, value);
      if (auto st = unique_->run(); !st) return st;
      if (db_->changes() > 0) ++fresh[key];
    }
    for (const auto& [key, m] : meters_) {
      const auto& [tenant, metric, month] = key;
      const auto it = fresh.find(key);
      meter_->bind_all(tenant, metric, month, m.count, m.sum, it == fresh.end() ? std::int64_t{0} : it->second);
      if (auto st = meter_->run(); !st) return st;
    }
    discard();
    return ok_status();
  }

  void discard() override {
    meters_.clear();
    values_.clear();
  }

 private:
  void add(MeterKey key, std::int64_t bytes, const std::string& value) {
    values_.emplace(key, value);
    Meter& m = meters_[std::move(key)];
    m.count += 1;
    m.sum += bytes;
  }

  static Error prefixed(Error e) { return Error{e.code, fmt::format("projection usage: {}", e.message), {}}; }

  sql::Db* db_ = nullptr;
  std::optional<sql::Stmt> unique_, meter_;
  std::map<MeterKey, Meter> meters_;
  std::set<std::pair<MeterKey, std::string>> values_;
};

}  // namespace

std::unique_ptr<Projection> usage_projection() { return std::make_unique<UsageProjection>(); }

}  // namespace causeway
