// The product's views (schemas/views/*.sql) as rule projections.
// Bump a projection's version whenever its rules or its SQL change.
#include <fmt/format.h>

#include <ctime>

#include "projections/rule_projection.h"
#include "projections/views/usage_view.h"
#include "projections/views/workflow_views.h"
#include "events/json_fields.h"

namespace causeway {
namespace {

using json = boost::json::object;
using E = Event;

std::string first_subject(const Event& e) { return e.subjects.empty() ? std::string() : e.subjects.front(); }

std::string iso_week(std::int64_t us) {
  std::time_t t = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%G-W%V", &tm);
  return buf;
}

std::unique_ptr<Projection> users() {
  return std::make_unique<RuleProjection>(
      "users", 1, std::vector<std::string>{"users"},
      std::vector<Rule>{{"user.signed_up",
                         "INSERT INTO users(user_id, email, display_name, signed_up_at, position) VALUES (?,?,?,?,?)",
                         [](sql::Stmt& s, const E& e, const json& d) {
                           s.bind_all(field(d, "user_id"), sealed_field(d, "email"), sealed_field(d, "display_name"),
                                      e.occurred_at_us, e.position);
                         }}});
}

std::unique_ptr<Projection> organizations() {
  return std::make_unique<RuleProjection>(
      "organizations", 2, std::vector<std::string>{"organizations"},
      std::vector<Rule>{
          {"organization.created",
           "INSERT INTO organizations(org_id, slug, name, owner_user_id, created_at, updated_at, version, position) "
           "VALUES (?,?,?,?,?,?,?,?)",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(field(d, "org_id"), field(d, "slug"), field(d, "name"), field(d, "owner_user_id"),
                        e.occurred_at_us, e.occurred_at_us, e.stream_version, e.position);
           }},
          {"organization.renamed",
           "UPDATE organizations SET name = ?, updated_at = ?, version = ?, position = ? WHERE org_id = ?",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(field(d, "name"), e.occurred_at_us, e.stream_version, e.position, field(d, "org_id"));
           }},
          // Version 2: the owner moves with a transfer.
          {"organization.ownership_transferred",
           "UPDATE organizations SET owner_user_id = ?, updated_at = ?, version = ?, position = ? WHERE org_id = ?",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(field(d, "to_user_id"), e.occurred_at_us, e.stream_version, e.position, field(d, "org_id"));
           }}});
}

std::unique_ptr<Projection> memberships() {
  // Version 2: invitations accepted, role changes, removals and transfers.
  return std::make_unique<RuleProjection>(
      "memberships", 2, std::vector<std::string>{"memberships"},
      std::vector<Rule>{
          {"organization.created",
           "INSERT INTO memberships(org_id, user_id, role, joined_at, position) VALUES (?,?,'owner',?,?)",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(field(d, "org_id"), field(d, "owner_user_id"), e.occurred_at_us, e.position);
           }},
          {"organization.invitation_accepted",
           "INSERT OR REPLACE INTO memberships(org_id, user_id, role, joined_at, position) VALUES (?,?,?,?,?)",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(field(d, "org_id"), field(d, "user_id"), field(d, "role"), e.occurred_at_us, e.position);
           }},
          {"organization.member_role_changed",
           "UPDATE memberships SET role = ?, position = ? WHERE org_id = ? AND user_id = ?",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(field(d, "role"), e.position, field(d, "org_id"), field(d, "user_id"));
           }},
          {"organization.member_removed", "DELETE FROM memberships WHERE org_id = ? AND user_id = ?",
           [](sql::Stmt& s, const E&, const json& d) { s.bind_all(field(d, "org_id"), field(d, "user_id")); }},
          {"organization.ownership_transferred",
           "UPDATE memberships SET role = CASE user_id WHEN ?1 THEN 'owner' ELSE 'admin' END, position = ?3 "
           "WHERE org_id = ?4 AND user_id IN (?1, ?2)",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(field(d, "to_user_id"), field(d, "from_user_id"), e.position, field(d, "org_id"));
           }}});
}

std::unique_ptr<Projection> api_keys() {
  return std::make_unique<RuleProjection>(
      "api_keys", 1, std::vector<std::string>{"api_keys"},
      std::vector<Rule>{
          {"api_key.created",
           "INSERT INTO api_keys(key_id, org_id, name, role, created_at, revoked_at, position) "
           "VALUES (?,?,?,?,?,NULL,?)",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(field(d, "key_id"), field(d, "org_id"), field(d, "name"), field(d, "role"), e.occurred_at_us,
                        e.position);
           }},
          {"api_key.revoked", "UPDATE api_keys SET revoked_at = ?, position = ? WHERE key_id = ?",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(e.occurred_at_us, e.position, field(d, "key_id"));
           }}});
}

std::unique_ptr<Projection> audit() {
  return std::make_unique<RuleProjection>(
      "audit", 2, std::vector<std::string>{"audit_index"},  // 2: keyed by (partition, position)
      std::vector<Rule>{{"*",
                         "INSERT INTO audit_index(partition, position, time, tenant, actor, impersonator, action, "
                         "target, subject, event_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         [](sql::Stmt& s, const E& e, const json&) {
                           s.bind_all(e.partition, e.position, e.recorded_at_us, e.tenant, e.actor.id, e.actor.impersonator, e.type,
                                      e.stream, first_subject(e), e.id);
                         }}});
}

// A step of another partition than the user's (an organization's creation,
// its first payment, credited to its owner): the earliest one, kept aside
// while the sign-up has not been applied.
std::vector<Rule> funnel_step(const std::string& type, const std::string& column) {
  auto bind = [](sql::Stmt& s, const E& e, const json& d) { s.bind_all(field(d, "owner_user_id"), e.occurred_at_us); };
  return {{type, fmt::format("UPDATE signup_funnel SET {0} = min(coalesce({0}, ?2), ?2) WHERE user_id = ?1", column),
           bind},
          {type,
           fmt::format("INSERT INTO signup_funnel_early(user_id, step, at) SELECT ?1, '{}', ?2 WHERE NOT EXISTS "
                       "(SELECT 1 FROM signup_funnel WHERE user_id = ?1) "
                       "ON CONFLICT (user_id, step) DO UPDATE SET at = min(at, excluded.at)",
                       column),
           bind}};
}

std::unique_ptr<Projection> funnel() {
  auto signed_up = [](sql::Stmt& s, const E& e, const json& d) {
    s.bind_all(field(d, "user_id"), e.occurred_at_us, iso_week(e.occurred_at_us), field(d, "referred_by"));
  };
  std::vector<Rule> rules{
      {"user.signed_up",
       "INSERT INTO signup_funnel(user_id, signed_up_at, cohort_week, referred_by, first_org_at, paid_at) "
       "VALUES (?1, ?2, ?3, NULLIF(?4, ''), "
       "(SELECT at FROM signup_funnel_early WHERE user_id = ?1 AND step = 'first_org_at'), "
       "(SELECT at FROM signup_funnel_early WHERE user_id = ?1 AND step = 'paid_at'))",
       signed_up},
      {"user.signed_up", "DELETE FROM signup_funnel_early WHERE user_id = ?",
       [](sql::Stmt& s, const E&, const json& d) { s.bind_all(field(d, "user_id")); }},
      {"user.email_verified", "UPDATE signup_funnel SET verified_at = ? WHERE user_id = ? AND verified_at IS NULL",
       [](sql::Stmt& s, const E& e, const json& d) { s.bind_all(e.occurred_at_us, field(d, "user_id")); }}};
  for (auto& r : funnel_step("organization.created", "first_org_at")) rules.push_back(std::move(r));
  for (auto& r : funnel_step("subscription.converted", "paid_at")) rules.push_back(std::move(r));
  return std::make_unique<RuleProjection>("funnel", 4,  // 3: referred_by; 4: steps of other partitions
                                          std::vector<std::string>{"signup_funnel", "signup_funnel_early"},
                                          std::move(rules));
}

// Data subject requests (engine/aggregates/subject.h, causeway::dsr).
std::unique_ptr<Projection> dsr() {
  return std::make_unique<RuleProjection>(
      "dsr", 1, std::vector<std::string>{"data_subject_requests"},
      std::vector<Rule>{
          {"dsr.opened",
           "INSERT INTO data_subject_requests(request_id, subject, kind, status, outcome, opened_at, due_at, extended, "
           "closed_at, position) VALUES (?,?,?,'open',NULL,?,?,0,NULL,?)",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(field(d, "request_id"), field(d, "subject"), field(d, "kind"), int_field(d, "opened_at_us"),
                        int_field(d, "due_at_us"), e.position);
           }},
          {"dsr.extended",
           "UPDATE data_subject_requests SET due_at = ?, extended = 1, position = ? WHERE request_id = ?",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(int_field(d, "due_at_us"), e.position, field(d, "request_id"));
           }},
          {"dsr.closed",
           "UPDATE data_subject_requests SET status = 'closed', outcome = ?, closed_at = ?, position = ? "
           "WHERE request_id = ?",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(field(d, "outcome"), e.occurred_at_us, e.position, field(d, "request_id"));
           }}});
}

// Retention policies and enforcements (engine/aggregates/retention.h).
std::unique_ptr<Projection> retention() {
  return std::make_unique<RuleProjection>(
      "retention", 2,  // 2: enforcements keyed by (partition, position)
      std::vector<std::string>{"retention_policies", "retention_enforcements"},
      std::vector<Rule>{
          {"retention.policy_set",
           "INSERT INTO retention_policies(scope, category, max_age_days, reason, set_by, set_at, position) "
           "VALUES (?,?,?,?,?,?,?) ON CONFLICT(scope, category) DO UPDATE SET max_age_days = excluded.max_age_days, "
           "reason = excluded.reason, set_by = excluded.set_by, set_at = excluded.set_at, position = excluded.position",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(field(d, "scope"), field(d, "category"), int_field(d, "max_age_days"), field(d, "reason"),
                        e.actor.id, e.occurred_at_us, e.position);
           }},
          {"retention.policy_removed", "DELETE FROM retention_policies WHERE scope = ? AND category = ?",
           [](sql::Stmt& s, const E&, const json& d) { s.bind_all(field(d, "scope"), field(d, "category")); }},
          {"retention.enforced",
           "INSERT INTO retention_enforcements(partition, position, scope, category, day, max_age_days, policy, "
           "enforced_at) VALUES (?,?,?,?,?,?,?,?)",
           [](sql::Stmt& s, const E& e, const json& d) {
             s.bind_all(e.partition, e.position, field(d, "scope"), field(d, "category"), field(d, "day"),
                        int_field(d, "max_age_days"), field(d, "policy"), e.occurred_at_us);
           }}});
}

// Reads and notifications may be applied in either order (the inbox is in the
// user's partition, a notification in its organization's): each read is kept,
// a notification is born read when a kept read covers it, and read_at is the
// earliest read that covers it, whatever the order.
std::unique_ptr<Projection> notifications() {
  constexpr const char* kEarlier = "min(coalesce(read_at, ?9), ?9)";  // ?9: this read's time
  auto read_by_id = [](sql::Stmt& s, const E& e, const json& d) {
    s.bind_all(field(d, "notification_id"), field(d, "user_id"));
    s.bind(9, e.occurred_at_us);
  };
  auto read_through = [](sql::Stmt& s, const E& e, const json& d) {
    s.bind_all(field(d, "user_id"), int_field(d, "partition"), int_field(d, "through_position"));
    s.bind(9, e.occurred_at_us);
  };
  return std::make_unique<RuleProjection>(
      "notifications", 2,  // 2: partition; reads kept, the rows independent of the order partitions apply in
      std::vector<std::string>{"notifications", "notification_reads", "notification_marks"},
      std::vector<Rule>{
          {"run.event_emitted",
           "INSERT OR IGNORE INTO notifications(notification_id, org_id, user_id, run_id, payload, created_at, "
           "read_at, partition, position) SELECT ?1, ?2, ?3, ?4, ?5, ?6, "
           "(SELECT min(at) FROM (SELECT at FROM notification_reads WHERE notification_id = ?1 AND user_id = ?3 "
           "UNION ALL SELECT at FROM notification_marks WHERE user_id = ?3 AND partition = ?9 AND through >= ?7)), "
           "?9, ?7 WHERE ?8 = 'notification.created' AND ?3 <> ''",
           [](sql::Stmt& s, const E& e, const json& d) {
             const std::string run = field(d, "run_id");
             const std::string id = fmt::format("{}.{}.{}", run, field(d, "node"), int_field(d, "visit"));
             s.bind_all(id, field(d, "org_id"), field(d, "recipient"), run, sealed_field(d, "payload"),
                        e.occurred_at_us, e.position, field(d, "event_type"), e.partition);
           }},
          {"notification.read",
           "INSERT INTO notification_reads(notification_id, user_id, at) VALUES (?1, ?2, ?9) "
           "ON CONFLICT (notification_id) DO UPDATE SET at = min(at, excluded.at)",
           read_by_id},
          {"notification.read",
           fmt::format("UPDATE notifications SET read_at = {} WHERE notification_id = ?1 AND user_id = ?2", kEarlier),
           read_by_id},
          {"notification.all_read",
           "INSERT OR IGNORE INTO notification_marks(user_id, partition, through, at) VALUES (?1, ?2, ?3, ?9)",
           read_through},
          {"notification.all_read",
           fmt::format("UPDATE notifications SET read_at = {} WHERE user_id = ?1 AND partition = ?2 AND position <= ?3",
                       kEarlier),
           read_through}});
}

}  // namespace

ProjectionSet make_projections() {
  ProjectionSet out;
  out.push_back(users());
  out.push_back(organizations());
  out.push_back(memberships());
  out.push_back(api_keys());
  out.push_back(audit());
  out.push_back(usage_projection());
  out.push_back(funnel());
  out.push_back(dsr());
  out.push_back(retention());
  out.push_back(workflows_projection());
  out.push_back(notifications());
  return out;
}

}  // namespace causeway
