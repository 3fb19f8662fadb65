// The read side over HTTP: views, analyst SQL, API keys and projection admin,
// against a real server on a loopback port.
//
// No sleeps: every read that must see a write passes that write's position
// token, and the server waits (bounded) until the view has applied it.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <string>
#include <vector>

#include "api/node_fixture.h"
#include "support/mail_files.h"
#include "support/process.h"
#include "projections/analyst_sql.h"
#include "projections/query.h"
#include "projections/view_files.h"

using namespace causeway;
using namespace causeway::testing;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

// A bad query parameter of GET /v1/views/{view} (limit, sort, filter, cursor or
// position, also as the Causeway-Position header) is a 400 naming it
// (docs/api.md, "Reading views" and the error table).
constexpr int kBadViewParam = 400;

const std::vector<std::string> kRoles = {"owner", "admin", "member", "analyst", "compliance_officer"};
const std::vector<std::string> kViews = {"users",  "organizations", "memberships",  "api_keys",
                                         "audit", "usage",         "signup_funnel"};

std::map<std::string, std::string> bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<json::object> ndjson(const std::string& body) {
  std::vector<json::object> out;
  std::size_t start = 0;
  while (start < body.size()) {
    auto end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    if (end > start) out.push_back(json::parse(body.substr(start, end - start)).as_object());
    start = end + 1;
  }
  return out;
}

std::vector<std::string> split_crlf(const std::string& body) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < body.size()) {
    auto end = body.find("\r\n", start);
    if (end == std::string::npos) {
      out.push_back(body.substr(start));
      break;
    }
    out.push_back(body.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

struct ApiKey {
  std::string role;
  std::string id;
  std::string token;
};

// A small client of the read side on top of NodeFixture.
struct ReadSide : NodeFixture {
  using NodeFixture::NodeFixture;

  std::string last_position = "0";

  std::map<std::string, std::string> admin() { return bearer(node->admin_token()); }

  std::string user(const std::string& email) {
    auto r = http->post("/v1/users", json::serialize(json::object{{"email", email},
                                                                  {"display_name", "Ann"},
                                                                  {"password", "a long password"}}));
    REQUIRE(r.status == 201);
    last_position = str(r.json().at("position"));
    return str(r.json().at("user_id"));
  }

  std::string org(const std::string& owner, const std::string& slug, const std::string& name = "Acme") {
    auto r = http->post("/v1/organizations",
                        json::serialize(json::object{{"slug", slug}, {"name", name}, {"owner_user_id", owner}}), admin());
    REQUIRE(r.status == 201);
    last_position = str(r.json().at("position"));
    return str(r.json().at("org_id"));
  }

  HttpResult create_key_raw(const std::string& org_id, const std::string& body,
                            std::map<std::string, std::string> extra = {}) {
    auto h = admin();
    h.insert(extra.begin(), extra.end());
    return http->post("/v1/admin/organizations/" + org_id + "/api-keys", body, h);
  }

  ApiKey key(const std::string& org_id, const std::string& role) {
    auto r = create_key_raw(org_id, json::serialize(json::object{{"name", "key for " + role}, {"role", role}}));
    REQUIRE(r.status == 201);
    auto o = r.json().as_object();
    CHECK(str(o.at("org_id")) == org_id);
    CHECK(str(o.at("role")) == role);
    last_position = str(o.at("position"));
    return ApiKey{role, str(o.at("key_id")), str(o.at("token"))};
  }

  HttpResult revoke(const std::string& key_id) {
    return http->request(http::verb::delete_, "/v1/admin/api-keys/" + key_id, {}, admin(), {});
  }

  // GET /v1/views/{view}?<query>&position=<last write>
  HttpResult view(const std::string& name, const std::map<std::string, std::string>& auth,
                  const std::string& query = {}) {
    std::string target = "/v1/views/" + name + "?position=" + last_position;
    if (name == "audit") target += "&reason=tenant%20isolation%20test";  // reads of the audit log are recorded
    if (!query.empty()) target += "&" + query;
    return http->get(target, auth);
  }

  HttpResult sql(const std::map<std::string, std::string>& auth, const std::string& statement) {
    return http->post("/v1/query", json::serialize(json::object{{"sql", statement}, {"position", last_position}}),
                      auth);
  }
};

// One tenant: its owner user, its organization and a key per role.
struct Tenant {
  std::string owner;
  std::string org;
  std::map<std::string, ApiKey> keys;  // by role

  std::vector<std::string> ids() const {
    std::vector<std::string> out{owner, org};
    for (const auto& [role, k] : keys) out.push_back(k.id);
    return out;
  }
};

Tenant make_tenant(ReadSide& f, const std::string& slug) {
  Tenant t;
  t.owner = f.user(slug + "-owner@example.com");
  t.org = f.org(t.owner, slug);
  for (const auto& role : kRoles) t.keys[role] = f.key(t.org, role);
  return t;
}

bool role_may_read(const std::string& view, const std::string& role) {
  if (view == "signup_funnel") return false;
  if (view == "api_keys") return role == "owner" || role == "admin";
  if (view == "audit") return role == "owner" || role == "compliance_officer";
  return true;
}

std::vector<std::string> column_values(const HttpResult& r, const std::string& column) {
  std::vector<std::string> out;
  const auto doc = r.json();
  for (const auto& row : doc.at("rows").as_array()) out.push_back(str(row.at(column)));
  return out;
}

}  // namespace

TEST_CASE("a tenant's API key never sees another tenant's rows in any view, and roles gate the restricted views") {
  ReadSide f;
  Tenant a = make_tenant(f, "tenant-a");
  Tenant b = make_tenant(f, "tenant-b");

  const std::vector<std::pair<const Tenant*, const Tenant*>> pairs{{&a, &b}, {&b, &a}};
  for (const auto& pair : pairs) {
    const Tenant* self = pair.first;
    const Tenant* other = pair.second;
    for (const auto& view : kViews) {
      for (const auto& role : kRoles) {
        CAPTURE(self->org);
        CAPTURE(view);
        CAPTURE(role);
        auto r = f.view(view, bearer(self->keys.at(role).token));
        if (!role_may_read(view, role)) {
          problem_of(r, 403);
          for (const auto& id : other->ids()) CHECK_FALSE(contains(r.body, id));
          continue;
        }
        REQUIRE(r.status == 200);
        CHECK(r.header("content-type") == "application/json");
        CHECK_FALSE(r.json().at("rows").as_array().empty());
        for (const auto& id : other->ids()) {
          CAPTURE(id);
          CHECK_FALSE(contains(r.body, id));
        }
        // Every view with rows for the tenant names it (users: by its member).
        CHECK(contains(r.body, view == "users" ? self->owner : self->org));
      }
    }
  }
}

TEST_CASE("the admin token reads every view across both tenants") {
  ReadSide f;
  Tenant a = make_tenant(f, "tenant-a");
  Tenant b = make_tenant(f, "tenant-b");
  for (const auto& view : kViews) {
    CAPTURE(view);
    auto r = f.view(view, f.admin());
    REQUIRE(r.status == 200);
    const bool by_user = view == "users" || view == "signup_funnel";
    CHECK(contains(r.body, by_user ? a.owner : a.org));
    CHECK(contains(r.body, by_user ? b.owner : b.org));
  }
  auto keys = f.view("api_keys", f.admin());
  for (const auto& [role, k] : a.keys) CHECK(contains(keys.body, k.id));
  for (const auto& [role, k] : b.keys) CHECK(contains(keys.body, k.id));
  // The token is shown once: neither the secret nor its hash is in the view.
  CHECK_FALSE(contains(keys.body, a.keys.at("owner").token.substr(37)));
}

TEST_CASE("a tenant analyst's SQL sees only its own tenant's rows in every scoped table") {
  ReadSide f;
  Tenant a = make_tenant(f, "tenant-a");
  Tenant b = make_tenant(f, "tenant-b");
  const auto analyst = bearer(a.keys.at("analyst").token);

  auto check_only_a = [&](const std::string& statement, const std::string& column, const std::string& expected) {
    CAPTURE(statement);
    auto r = f.sql(analyst, statement);
    REQUIRE(r.status == 200);
    CHECK(r.header("content-type") == "application/x-ndjson");
    auto rows = ndjson(r.body);
    CHECK_FALSE(rows.empty());
    for (const auto& row : rows) CHECK(str(row.at(column)) == expected);
    for (const auto& id : b.ids()) {
      CAPTURE(id);
      CHECK_FALSE(contains(r.body, id));
    }
  };
  check_only_a("select * from organizations", "org_id", a.org);
  check_only_a("select * from memberships", "org_id", a.org);
  check_only_a("select * from users", "user_id", a.owner);
  check_only_a("select * from usage_meters", "tenant", a.org);
  check_only_a("select * from temp.organizations", "org_id", a.org);

  // Views gated to other roles (the audit log, API keys) do not exist for an analyst.
  for (const char* gated : {"select * from audit_index", "select * from api_keys", "select * from main.audit_index"}) {
    CAPTURE(gated);
    problem_of(f.sql(analyst, gated), 403);
  }

  // The same statement as the operator sees both tenants.
  auto all = f.sql(f.admin(), "select org_id from organizations order by org_id");
  REQUIRE(all.status == 200);
  CHECK(ndjson(all.body).size() == 2);
}

TEST_CASE("a tenant analyst cannot escape its scope: main tables, bookkeeping, attach, pragma, extensions and writes are 403") {
  ReadSide f;
  Tenant a = make_tenant(f, "tenant-a");
  Tenant b = make_tenant(f, "tenant-b");
  const auto analyst = bearer(a.keys.at("analyst").token);

  for (const std::string& statement : std::vector<std::string>{
           "select * from main.organizations",
           "select * from sqlite_master",
           "select * from _checkpoints",
           "select * from _projections",
           "select * from usage_uniques",
           "select * from signup_funnel",
           "select * from main.users",
           "attach database '/tmp/x' as x",
           "pragma table_info(users)",
           "select * from pragma_table_info('users')",
           "select load_extension('x')",
           "select org_id from organizations union select org_id from main.organizations",
           "select * from organizations where org_id in (select org_id from main.organizations)",
           "select * from (select * from main.organizations) as x",
           "with o as (select * from main.organizations) select * from o",
           "with organizations as (select * from main.organizations) select * from organizations",
           "with k as (select key_id, org_id from main.api_keys) select * from k",
           "create table t(x)",
           "create temp table t(x)",
           "insert into temp.t values(1)",
           "delete from organizations",
           "update organizations set name = 'x'",
           "begin",
           "vacuum into '/tmp/causeway-analyst-copy.db'",
           "vacuum",
           "create temp trigger t after insert on organizations begin select 1; end",
           "create temp view v as select * from main.api_keys",
           "drop view organizations",
           "select row_number() over (order by org_id) as n, org_id from main.organizations",
           "select * from organizations where org_id = (select email from main.users)",
           "select * from organizations where org_id = (select key_id from api_keys)",
           "select * from organizations where org_id = (select org_id from main.organizations where org_id != '" +
               a.org + "')",
           "select cast((select group_concat(org_id) from main.organizations) as integer) as n",
           "replace into organizations select * from organizations",
           "analyze",
           "reindex",
           "savepoint s",
           "detach database main",
       }) {
    CAPTURE(statement);
    auto r = f.sql(analyst, statement);
    CHECK(r.status == 403);
    CHECK(r.header("content-type") == "application/problem+json");
    for (const auto& id : b.ids()) {
      CAPTURE(id);
      CHECK_FALSE(contains(r.body, id));
    }
  }

  auto two = f.sql(analyst, "select * from organizations; delete from organizations");
  CAPTURE(two.body);
  CHECK(two.status >= 400);
  CHECK(two.status < 500);
  CHECK(two.header("content-type") == "application/problem+json");

  // Nothing was changed by any of it.
  auto orgs = f.view("organizations", f.admin());
  REQUIRE(orgs.status == 200);
  CHECK(orgs.json().at("rows").as_array().size() == 2);
}

TEST_CASE("analyst SQL that reads no column, or reads through any construct, is refused naming the table or scoped "
          "to the tenant") {
  ReadSide f;
  Tenant a = make_tenant(f, "tenant-a");
  Tenant b = make_tenant(f, "tenant-b");
  const auto analyst = bearer(a.keys.at("analyst").token);
  auto shows_nothing_of_b = [&](const HttpResult& r) {
    for (const auto& id : b.ids()) {
      CAPTURE(id);
      CHECK_FALSE(contains(r.body, id));
    }
  };

  // Refused, with the 403 naming what was read.
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"select count(*) as n from api_keys", "api_keys"},
      {"select count(*) as n from main.api_keys", "api_keys"},
      {"select count(*) as n from signup_funnel", "signup_funnel"},
      {"select count(*) as n from audit_index", "audit_index"},
      {"select count(*) as n from main.organizations", "organizations"},
      {"select exists(select 1 from api_keys) as n", "api_keys"},
      {"select (select count(*) from main.memberships) as n", "memberships"},
      {"with c as (select 1 from api_keys) select count(*) as n from c", "api_keys"},
      {"with organizations as (select 1 from main.organizations) select count(*) as n from organizations",
       "organizations"},
      {"select count(*) as n from organizations join main.memberships using (org_id)", "memberships"},
      {"select count(*) as n from organizations, main.usage_meters", "usage_meters"},
      // USING and NATURAL joins: SQLite's authorizer reports no read of the joined columns.
      {"select count(*) as n from organizations natural join api_keys", "api_keys"},
      {"select count(*) as n from usage_meters join usage_uniques using (tenant)", "usage_uniques"},
      {"select count(*) as n from memberships join signup_funnel using (user_id)", "signup_funnel"},
      {"select count(*) as n from dbstat", "dbstat"},
      {"select count(*) as n from dbstat('temp')", "dbstat"},
      {"select count(*) as n from sqlite_master", "sqlite_master"},
      {"select count(*) as n from sqlite_schema", "sqlite_"},
      {"select count(*) as n from sqlite_temp_master", "sqlite_temp_master"},
      {"select * from pragma_table_info('api_keys')", "pragma_table_info"},
      {"select count(*) as n from pragma_function_list", "pragma_function_list"},
      {"select count(*) as n from json_each((select json_group_array(key_id) from api_keys))", "api_keys"},
      {"select count(*) over () as n from main.api_keys", "api_keys"},
      {"select count(*) as n from usage_uniques", "usage_uniques"},
      {"select count(*) as n from data_subject_requests", "data_subject_requests"},
      {"select count(*) as n from _checkpoints", "_checkpoints"},
  };
  for (const auto& [statement, table] : refused) {
    CAPTURE(statement);
    auto r = f.sql(analyst, statement);
    CAPTURE(r.body);
    auto p = problem_of(r, 403);
    CHECK(contains(str(p.at("detail")), table));
    shows_nothing_of_b(r);
  }
  // The statistics table does not exist until ANALYZE runs: refused either way.
  auto stat = f.sql(analyst, "select count(*) as n from sqlite_stat1");
  CHECK((stat.status == 403 || stat.status == 422));
  shows_nothing_of_b(stat);

  // Scoped: the same constructs over the tenant's own views count its rows only.
  const std::vector<std::pair<std::string, std::string>> scoped = {
      {"select count(*) as n from organizations", R"({"n":1})"},
      {"select count(*) as n from users", R"({"n":1})"},
      {"select count(*) as n from memberships", R"({"n":1})"},
      {"select exists(select 1 from organizations where org_id = '" + b.org + "') as n", R"({"n":0})"},
      {"select (select count(*) from temp.organizations) as n", R"({"n":1})"},
      {"with c as (select org_id from organizations) select count(*) as n from c", R"({"n":1})"},
      {"select count(*) over () as n from organizations", R"({"n":1})"},
      {"select count(*) as n from json_each((select json_group_array(org_id) from organizations))", R"({"n":1})"},
      {"select count(*) as n from memberships m join users u using (user_id)", R"({"n":1})"},
      {"select count(*) as n from organizations natural join memberships", R"({"n":1})"},
      {"with recursive r(x) as (select 1 union all select x + 1 from r where x < 5) "
       "select count(*) as n from r, organizations",
       R"({"n":5})"},
  };
  for (const auto& [statement, expected] : scoped) {
    CAPTURE(statement);
    auto r = f.sql(analyst, statement);
    CAPTURE(r.body);
    CHECK(r.status == 200);
    CHECK(r.body == expected + "\n");
  }

  // The operator's count is of both tenants: the tenant's 1 above was its scope.
  CHECK(f.sql(f.admin(), "select count(*) as n from organizations").body == "{\"n\":2}\n");

  // The offline CLI's --tenant goes through the same allow-list.
  SqlAccess access;
  access.tenant = a.org;
  access.role = "analyst";
  auto views_path = ViewFiles(f.dir.str()).current();
  REQUIRE(views_path);
  auto counted = run_analyst_sql(*views_path, "select count(*) from api_keys", access, SqlLimits{},
                                 [](const std::vector<std::string>&) {}, [](const std::vector<json::value>&) {});
  REQUIRE_FALSE(counted);
  CHECK(counted.error().code == Errc::forbidden);
  CHECK(contains(counted.error().message, "api_keys"));
}

TEST_CASE("a randomblob flood is cut off at query_max_bytes and an oversized value is refused") {
  ReadSide f([](ServerConfig& cfg) { cfg.query_max_bytes = 1u << 20; });
  auto user = f.user("ann@example.com");
  auto org = f.org(user, "acme");
  auto analyst = bearer(f.key(org, "analyst").token);
  auto flood = f.sql(analyst,
                     "with recursive r(x) as (select 1 union all select x + 1 from r where x < 1000) "
                     "select randomblob(100000) as b from r");
  REQUIRE(flood.status == 200);
  CHECK(flood.header("causeway-truncated") == "max_bytes=1048576");
  CHECK(ndjson(flood.body).size() == 10);
  auto huge = f.sql(analyst, "select randomblob(2000000) as b");
  CAPTURE(huge.body);
  CHECK(huge.status >= 400);
  CHECK(huge.status < 500);
  CHECK(f.sql(analyst, "select count(*) as n from organizations").body == "{\"n\":1}\n");
}

TEST_CASE("only the analyst role and the operator may use the SQL endpoint") {
  ReadSide f;
  Tenant a = make_tenant(f, "tenant-a");
  for (const auto& role : kRoles) {
    CAPTURE(role);
    auto r = f.sql(bearer(a.keys.at(role).token), "select 1 as one");
    if (role == "analyst") {
      CHECK(r.status == 200);
      CHECK(r.body == "{\"one\":1}\n");
    } else {
      problem_of(r, 403);
    }
  }
  CHECK(f.sql(f.admin(), "select 1 as one").status == 200);
  problem_of(f.http->post("/v1/query", R"({"sql":"select 1"})"), 401);
}

TEST_CASE("a query that never ends is interrupted at query_timeout with a 503") {
  ReadSide f([](ServerConfig& cfg) { cfg.query_timeout = std::chrono::milliseconds(200); });
  auto user = f.user("ann@example.com");
  auto org = f.org(user, "acme");
  auto analyst = f.key(org, "analyst");
  const std::string forever = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c";
  auto r = f.sql(bearer(analyst.token), forever);
  problem_of(r, 503);
  CHECK(r.header("retry-after") == "1");
  auto op = f.sql(f.admin(), forever);
  problem_of(op, 503);
  // The server is fine afterwards.
  CHECK(f.sql(bearer(analyst.token), "select count(*) as n from organizations").body == "{\"n\":1}\n");
}

TEST_CASE("an analyst result past query_max_rows is cut off and says so in Causeway-Truncated") {
  ReadSide f([](ServerConfig& cfg) { cfg.query_max_rows = 2; });
  auto user = f.user("ann@example.com");
  for (const std::string slug : {"org-one", "org-two", "org-three"}) f.org(user, slug);
  auto r = f.sql(f.admin(), "select org_id from organizations");
  REQUIRE(r.status == 200);
  CHECK(ndjson(r.body).size() == 2);
  CHECK(r.header("causeway-truncated") == "max_rows=2");
  auto whole = f.sql(f.admin(), "select count(*) as n from organizations");
  CHECK(whole.body == "{\"n\":3}\n");
  CHECK(whole.header("causeway-truncated").empty());
}

TEST_CASE("view and SQL requests without valid credentials are 401") {
  ReadSide f;
  auto user = f.user("ann@example.com");
  auto org = f.org(user, "acme");
  auto k = f.key(org, "owner");
  REQUIRE(f.view("organizations", bearer(k.token)).status == 200);

  auto none = f.http->get("/v1/views/organizations");
  problem_of(none, 401);
  CHECK(none.header("www-authenticate") == "Bearer");

  const std::string key_hex = k.id.substr(4);
  const std::string secret = k.token.substr(37);
  REQUIRE(k.token == "cwk_" + key_hex + "_" + secret);
  const std::string wrong_secret = "cwk_" + key_hex + "_" + std::string(64, '0');
  REQUIRE(wrong_secret != k.token);
  for (const std::string& bad : {
           std::string("nope"),
           std::string("cwk_"),
           k.token + "0",
           k.token.substr(0, k.token.size() - 1),
           "cwk_" + key_hex + "-" + secret,                       // wrong separator
           "cwk_" + std::string(32, 'A') + "_" + secret,          // upper-case hex
           "cwk_" + std::string(32, '0') + "_" + secret,          // unknown key id
           wrong_secret,                                                      // right key id, wrong secret
       }) {
    CAPTURE(bad);
    problem_of(f.http->get("/v1/views/organizations", bearer(bad)), 401);
    problem_of(f.sql(bearer(bad), "select 1"), 401);
  }
  // The scheme is case-insensitive (RFC 9110); another scheme is refused.
  CHECK(f.http->get("/v1/views/organizations", {{"Authorization", "bearer " + k.token}}).status == 200);
  problem_of(f.http->get("/v1/views/organizations", {{"Authorization", "Basic " + k.token}}), 401);
}

TEST_CASE("a revoked API key is refused with 401 from then on") {
  ReadSide f;
  auto user = f.user("ann@example.com");
  auto org = f.org(user, "acme");
  auto k = f.key(org, "analyst");
  auto other = f.key(org, "analyst");
  REQUIRE(f.view("organizations", bearer(k.token)).status == 200);

  auto r = f.revoke(k.id);
  REQUIRE(r.status == 200);
  CHECK(r.json().at("revoked").as_bool());
  f.last_position = str(r.json().at("position"));

  problem_of(f.view("organizations", bearer(k.token)), 401);
  problem_of(f.sql(bearer(k.token), "select 1"), 401);
  // Only that key: its sibling still works.
  CHECK(f.view("organizations", bearer(other.token)).status == 200);
  // The view records the revocation.
  auto keys = f.view("api_keys", f.admin(), "key_id=" + k.id);
  REQUIRE(keys.status == 200);
  REQUIRE(keys.json().at("rows").as_array().size() == 1);
  CHECK(keys.json().at("rows").at(0).at("revoked_at").is_string());

  problem_of(f.revoke("key-0123456789abcdef0123456789abcdef"), 404);
  problem_of(f.http->request(http::verb::delete_, "/v1/admin/api-keys/" + other.id, {}, bearer(other.token), {}),
             401);
}

TEST_CASE("an API key is not an admin credential: admin routes answer 401") {
  ReadSide f;
  auto user = f.user("ann@example.com");
  auto org = f.org(user, "acme");
  auto owner = f.key(org, "owner");
  problem_of(f.http->get("/v1/admin/projections", bearer(owner.token)), 401);
  problem_of(f.http->post("/v1/admin/projections/rebuild", R"({"projections":[]})", bearer(owner.token)), 401);
  problem_of(f.http->post("/v1/admin/organizations/" + org + "/api-keys", R"({"name":"x","role":"owner"})",
                          bearer(owner.token)),
             401);
  problem_of(f.http->get("/v1/admin/streams/" + org + "/events", bearer(owner.token)), 401);
  CHECK(f.http->get("/v1/admin/projections", f.admin()).status == 200);
}

TEST_CASE("API key creation refuses an Idempotency-Key, an unknown role and an unknown organization") {
  ReadSide f;
  auto user = f.user("ann@example.com");
  auto org = f.org(user, "acme");
  const std::string head = f.head();

  problem_of(f.create_key_raw(org, R"({"name":"k","role":"analyst"})", {{"Idempotency-Key", "k-1"}}), 400);
  auto p = problem_of(f.create_key_raw(org, R"({"name":"k","role":"superuser"})"), 422);
  CHECK(pointer_of(p) == "/role");
  problem_of(f.create_key_raw("org-0123456789abcdef0123456789abcdef", R"({"name":"k","role":"analyst"})"), 404);
  CHECK(f.head() == head);

  // The token is shown once and has the documented shape.
  auto k = f.key(org, "analyst");
  CHECK(k.token.size() == 4 + 32 + 1 + 64);
  CHECK(k.token.rfind("cwk_" + k.id.substr(4) + "_", 0) == 0);
}

TEST_CASE("the position token of a command makes the view show its write") {
  ReadSide f;
  auto user = f.user("ann@example.com");
  for (int i = 0; i < 3; ++i) {
    auto slug = "acme-" + std::to_string(i);
    auto org = f.org(user, slug);
    CAPTURE(slug);
    auto r = f.http->get("/v1/views/organizations?slug=" + slug + "&position=" + f.last_position, f.admin());
    REQUIRE(r.status == 200);
    CHECK(column_values(r, "org_id") == std::vector<std::string>{org});
    // The view's applied position covers the token.
    CHECK(std::stoull(str(r.json().at("position"))) >= std::stoull(f.last_position));
    CHECK(r.header("causeway-position") == str(r.json().at("position")));
  }
  // The Causeway-Position request header does the same.
  auto org = f.org(user, "acme-header");
  auto h = f.admin();
  h["Causeway-Position"] = f.last_position;
  auto r = f.http->get("/v1/views/organizations?slug=acme-header", h);
  REQUIRE(r.status == 200);
  CHECK(column_values(r, "org_id") == std::vector<std::string>{org});
  // And the SQL endpoint's "position".
  auto q = f.sql(f.admin(), "select org_id from organizations where slug = 'acme-header'");
  REQUIRE(q.status == 200);
  CHECK(q.body == "{\"org_id\":\"" + org + "\"}\n");
}

TEST_CASE("a position ahead of the log head or malformed is rejected, not waited on") {
  ReadSide f;
  auto user = f.user("ann@example.com");
  f.org(user, "acme");
  const auto ahead = std::to_string(std::stoull(f.head()) + 1000);
  for (const std::string& bad : {ahead, std::string("abc"), std::string("1.2"), std::string("-1"),
                                std::string("1."), std::string("99999999999999999999999")}) {
    CAPTURE(bad);
    problem_of(f.http->get("/v1/views/organizations?position=" + bad, f.admin()), kBadViewParam);
  }
  auto h = f.admin();
  h["Causeway-Position"] = ahead;
  problem_of(f.http->get("/v1/views/organizations", h), kBadViewParam);
  // On the SQL endpoint an unreachable position is refused too, never waited on.
  auto r = f.http->post("/v1/query", json::serialize(json::object{{"sql", "select 1"}, {"position", ahead}}),
                        f.admin());
  CHECK(r.status >= 400);
  CHECK(r.status < 500);
  auto p = problem_of(f.http->post("/v1/query", R"({"sql":"select 1","position":"abc"})", f.admin()), 422);
  CHECK(pointer_of(p) == "/position");
}

TEST_CASE("organizations pages through next_cursor cover every row once, in both sort directions") {
  ReadSide f;
  auto user = f.user("ann@example.com");
  std::vector<std::string> created;
  for (const std::string slug : {"org-one", "org-two", "org-three", "org-four", "org-five"})
    created.push_back(f.org(user, slug));

  auto all = f.view("organizations", f.admin());
  REQUIRE(all.status == 200);
  CHECK_FALSE(all.json().as_object().contains("next_cursor"));
  const auto full = column_values(all, "org_id");
  REQUIRE(full.size() == 5);
  CHECK(std::set<std::string>(full.begin(), full.end()) == std::set<std::string>(created.begin(), created.end()));
  const auto times = column_values(all, "created_at");
  CHECK(std::is_sorted(times.begin(), times.end()));

  auto walk = [&](const std::string& sort) {
    std::vector<std::string> seen;
    std::string cursor;
    int pages = 0;
    for (;;) {
      std::string q = "limit=2" + sort + (cursor.empty() ? "" : "&cursor=" + cursor);
      CAPTURE(q);
      auto r = f.view("organizations", f.admin(), q);
      REQUIRE(r.status == 200);
      auto ids = column_values(r, "org_id");
      CHECK(ids.size() <= 2);
      seen.insert(seen.end(), ids.begin(), ids.end());
      ++pages;
      REQUIRE(pages <= 5);
      const auto doc = r.json();
      auto* next = doc.as_object().if_contains("next_cursor");
      if (!next) break;
      cursor = str(*next);
    }
    CHECK(pages == 3);
    return seen;
  };
  auto ascending = walk("");
  CHECK(ascending == full);
  auto descending = walk("&sort=-created_at");
  CHECK(descending == std::vector<std::string>(full.rbegin(), full.rend()));
  CHECK(walk("&sort=created_at") == full);

  // A cursor carries on in its own direction.
  auto first = f.view("organizations", f.admin(), "limit=2&sort=-created_at");
  REQUIRE(first.status == 200);
  auto second =
      f.view("organizations", f.admin(), "limit=2&sort=-created_at&cursor=" + str(first.json().at("next_cursor")));
  REQUIRE(second.status == 200);
  CHECK(column_values(second, "org_id") == std::vector<std::string>{full[2], full[1]});
}

TEST_CASE("tampered cursors, bad limits, unknown parameters and bad filter values are rejected") {
  ReadSide f;
  auto user = f.user("ann@example.com");
  for (const std::string slug : {"org-one", "org-two", "org-three"}) f.org(user, slug);
  auto page = f.view("organizations", f.admin(), "limit=1");
  REQUIRE(page.status == 200);
  const std::string cursor = str(page.json().at("next_cursor"));

  for (const std::string& q : {
           "cursor=" + cursor.substr(0, cursor.size() - 3),  // truncated
           std::string("cursor=not!base64"),
           std::string("cursor=WzFd"),                      // [1]: wrong arity
           std::string("cursor=WyJ4IiwieSIsInoiXQ"),        // ["x","y","z"]
           std::string("cursor=eyJhIjoxfQ"),                // {"a":1}
           std::string("cursor=WzEuNSwib3JnLXgiXQ"),        // [1.5,"org-x"]: not an issued value type
           std::string("limit=0"),
           std::string("limit=1001"),
           std::string("limit=-1"),
           std::string("limit=ten"),
           std::string("colour=red"),
           std::string("name=Acme"),                 // sortable, not filterable
           std::string("version=1"),                 // neither
           std::string("slug.gte=a"),                // range on a text column
           std::string("created_at.gte=yesterday"),  // not a time
           std::string("created_at.lt=2026-13-45"),
           std::string("sort=version"),
           std::string("sort=-owner_user_id"),
           std::string("sort=nope"),
       }) {
    CAPTURE(q);
    problem_of(f.view("organizations", f.admin(), q), kBadViewParam);
  }
  problem_of(f.view("no_such_view", f.admin()), 404);

  // The good spellings of the same filters work.
  auto one = f.view("organizations", f.admin(), "slug=org-two");
  REQUIRE(one.status == 200);
  REQUIRE(one.json().at("rows").as_array().size() == 1);
  CHECK(str(one.json().at("rows").at(0).at("slug")) == "org-two");
  CHECK(f.view("organizations", f.admin(), "created_at.gte=2000-01-01T00:00:00Z").json().at("rows").as_array().size() ==
        3);
  CHECK(f.view("organizations", f.admin(), "created_at.lt=0").json().at("rows").as_array().empty());
  CHECK(f.view("organizations", f.admin(), "slug=nothing").json().at("rows").as_array().empty());
  CHECK(f.view("organizations", f.admin(), "slug=x'%20OR%20'1'%3D'1").json().at("rows").as_array().empty());
}

TEST_CASE("CSV has a header row, CRLF line ends, formula-safe cells and RFC 4180 quoting") {
  ReadSide f;
  auto user = f.user("ann@example.com");
  f.org(user, "formula", "=HYPERLINK(\"http://x\",\"y\")");
  f.org(user, "quoted", "Smith, \"Jones\" & Co");
  f.org(user, "at-sign", "@cmd");
  f.org(user, "plain", "Plain");

  auto h = f.admin();
  h["Accept"] = "text/csv";
  auto r = f.view("organizations", h);
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "text/csv; charset=utf-8");
  // Every line ends in CRLF; there is no bare LF.
  REQUIRE(r.body.size() >= 2);
  CHECK(r.body.substr(r.body.size() - 2) == "\r\n");
  for (std::size_t i = 0; i < r.body.size(); ++i)
    if (r.body[i] == '\n') CHECK((i > 0 && r.body[i - 1] == '\r'));
  auto lines = split_crlf(r.body);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "org_id,slug,name,owner_user_id,created_at,updated_at,version,position");
  auto line_of = [&](const std::string& slug) {
    for (const auto& l : lines)
      if (l.find("," + slug + ",") != std::string::npos) return l;
    return std::string();
  };
  CHECK(contains(line_of("formula"), ",formula,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"," + user + ","));
  CHECK(contains(line_of("quoted"), ",quoted,\"Smith, \"\"Jones\"\" & Co\"," + user + ","));
  CHECK(contains(line_of("at-sign"), ",at-sign,'@cmd," + user + ","));
  CHECK(contains(line_of("plain"), ",plain,Plain," + user + ","));

  // Paging in CSV: the cursor is in a header.
  auto paged = f.view("organizations", h, "limit=3");
  REQUIRE(paged.status == 200);
  CHECK(split_crlf(paged.body).size() == 4);
  CHECK_FALSE(paged.header("causeway-next-cursor").empty());

  // The SQL endpoint renders CSV the same way.
  auto q = f.http->post("/v1/query", R"({"sql":"select name from organizations where slug = 'formula'"})", h);
  REQUIRE(q.status == 200);
  CHECK(q.header("content-type") == "text/csv; charset=utf-8");
  CHECK(q.body == "name\r\n\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n");
}

TEST_CASE("the users view opens personal data for live subjects, shows [erased] after erasure, and SQL never shows plaintext") {
  ReadSide f;
  auto ann = f.user("ann@example.com");
  auto bob = f.user("bob@example.com");
  auto org = f.org(ann, "acme");
  auto member = f.key(org, "member");
  auto analyst = f.key(org, "analyst");

  auto row_of = [&](const HttpResult& r, const std::string& id) {
    const auto doc = r.json();
    for (const auto& row : doc.at("rows").as_array())
      if (str(row.at("user_id")) == id) return row.as_object();
    return json::object();
  };

  auto r = f.view("users", f.admin());
  REQUIRE(r.status == 200);
  CHECK(str(row_of(r, ann).at("email")) == "ann@example.com");
  CHECK(str(row_of(r, ann).at("display_name")) == "Ann");
  CHECK(str(row_of(r, bob).at("email")) == "bob@example.com");
  auto tenant = f.view("users", bearer(member.token));
  REQUIRE(tenant.status == 200);
  CHECK(str(row_of(tenant, ann).at("email")) == "ann@example.com");
  CHECK_FALSE(contains(tenant.body, "bob@example.com"));

  auto sealed = [&](const std::map<std::string, std::string>& auth) {
    auto q = f.sql(auth, "select user_id, email, display_name from users");
    REQUIRE(q.status == 200);
    CHECK_FALSE(contains(q.body, "@example.com"));
    for (const auto& row : ndjson(q.body)) {
      auto email = json::parse(str(row.at("email"))).as_object();
      CHECK(str(email.at("$sealed")) == "v2");
      CHECK(str(email.at("sub")) == str(row.at("user_id")));
    }
  };
  sealed(f.admin());
  sealed(bearer(analyst.token));

  REQUIRE(f.node->vault().forget(ann).ok());
  r = f.view("users", f.admin());
  REQUIRE(r.status == 200);
  CHECK(str(row_of(r, ann).at("email")) == "[erased]");
  CHECK(str(row_of(r, ann).at("display_name")) == "[erased]");
  CHECK_FALSE(contains(r.body, "ann@example.com"));
  CHECK(str(row_of(r, bob).at("email")) == "bob@example.com");
  tenant = f.view("users", bearer(member.token));
  REQUIRE(tenant.status == 200);
  CHECK(str(row_of(tenant, ann).at("email")) == "[erased]");
  auto csv_h = f.admin();
  csv_h["Accept"] = "text/csv";
  auto csv = f.view("users", csv_h);
  CHECK_FALSE(contains(csv.body, "ann@example.com"));
  CHECK(contains(csv.body, "[erased]"));
  sealed(f.admin());
}

TEST_CASE("the SQL endpoint rejects bad bodies with 400, 415 and 422 problems") {
  ReadSide f;
  const auto admin = f.admin();
  problem_of(f.http->post("/v1/query", "{", admin), 400);
  problem_of(f.http->post("/v1/query", "not json", admin), 400);
  problem_of(f.http->post("/v1/query", "[1,2]", admin), 422);
  problem_of(f.http->post("/v1/query", "\"select 1\"", admin), 422);
  auto p = problem_of(f.http->post("/v1/query", R"({"sql":"select 1","limit":5})", admin), 422);
  CHECK(pointer_of(p) == "/limit");
  p = problem_of(f.http->post("/v1/query", R"({"sql":5})", admin), 422);
  CHECK(pointer_of(p) == "/sql");
  p = problem_of(f.http->post("/v1/query", R"({"sql":""})", admin), 422);
  CHECK(pointer_of(p) == "/sql");
  p = problem_of(f.http->post("/v1/query", R"({})", admin), 422);
  CHECK(pointer_of(p) == "/sql");
  std::string utf8 = R"({"sql":"select ')";
  utf8 += "\xC3\x28";
  utf8 += R"('"})";
  problem_of(f.http->post("/v1/query", utf8, admin), 400);
  problem_of(f.http->request(http::verb::post, "/v1/query", R"({"sql":"select 1"})", admin, "text/plain"), 415);
  problem_of(f.http->post("/v1/query", R"({"sql":"selec 1"})", admin), 422);
  auto get = f.http->get("/v1/query", admin);
  problem_of(get, 405);
  CHECK(get.header("allow") == "POST");
}

TEST_CASE("every projection reports running with no lag once caught up, and rebuild validates its body") {
  ReadSide f;
  auto user = f.user("ann@example.com");
  auto org = f.org(user, "acme");
  f.key(org, "owner");
  // Wait until every projection has applied the last write.
  REQUIRE(f.sql(f.admin(), "select 1").status == 200);

  auto r = f.http->get("/v1/admin/projections", f.admin());
  REQUIRE(r.status == 200);
  auto body = r.json().as_object();
  CHECK_FALSE(body.at("rebuilding").as_bool());
  std::set<std::string> names;
  for (const auto& p : body.at("projections").as_array()) {
    const auto& o = p.as_object();
    CAPTURE(json::serialize(o));
    names.insert(str(o.at("name")));
    CHECK(str(o.at("state")) == "running");
    CHECK(o.at("lag_events").to_number<std::uint64_t>() == 0);
    CHECK(o.at("lag_ms").to_number<std::int64_t>() == 0);
    CHECK(str(o.at("checkpoint")) == f.last_position);
    CHECK_FALSE(o.contains("error"));
  }
  CHECK(names ==
        std::set<std::string>{"users", "organizations", "memberships", "api_keys", "audit", "usage", "funnel", "dsr",
                              "retention", "workflows", "notifications"});

  problem_of(f.http->get("/v1/admin/projections"), 401);
  problem_of(f.http->post("/v1/admin/projections/rebuild", R"({"projections":["nope"]})", f.admin()), 404);
  auto p = problem_of(f.http->post("/v1/admin/projections/rebuild", R"({"projections":"x"})", f.admin()), 422);
  CHECK(pointer_of(p) == "/projections");
  p = problem_of(f.http->post("/v1/admin/projections/rebuild", R"({"projections":[7]})", f.admin()), 422);
  CHECK(pointer_of(p) == "/projections/0");
  p = problem_of(f.http->post("/v1/admin/projections/rebuild", R"({"names":["users"]})", f.admin()), 422);
  CHECK(pointer_of(p) == "/names");
  problem_of(f.http->post("/v1/admin/projections/rebuild", "{", f.admin()), 400);
  // None of these started a rebuild.
  CHECK_FALSE(f.http->get("/v1/admin/projections", f.admin()).json().at("rebuilding").as_bool());
}

TEST_CASE("a count over every table an analyst may query equals its own organization's rows, through the API and "
          "the CLI alike, with the two organizations holding different numbers of rows") {
  ReadSide f;
  Tenant a = make_tenant(f, "tenant-a");
  Tenant b = make_tenant(f, "tenant-b");
  // A gets two more members (invited, signed up, verified, accepted) and a workflow with a run.
  for (const std::string email : {"tenant-a-m1@example.com", "tenant-a-m2@example.com"}) {
    auto invited = f.http->post("/v1/organizations/" + a.org + "/invitations",
                                R"({"email":")" + email + R"(","role":"member"})", f.admin());
    REQUIRE(invited.status == 201);
    f.user(email);
    const std::string verify = token_of_mail(f.dir.str(), email, "Confirm your email address");
    REQUIRE(f.http->post("/v1/users/verification", R"({"token":")" + verify + R"("})").status == 200);
    auto session = f.http->post("/v1/sessions", R"({"email":")" + email + R"(","password":"a long password"})");
    REQUIRE(session.status == 201);
    const std::string invitation = token_of_mail(f.dir.str(), email, "invited to join");
    auto accepted = f.http->post("/v1/invitations/acceptance", R"({"token":")" + invitation + R"("})",
                                 bearer(str(session.json().at("access_token"))));
    REQUIRE(accepted.status == 200);
    f.last_position = str(accepted.json().at("position"));
  }
  const auto member = bearer(a.keys.at("member").token);
  auto wf = f.http->post("/v1/workflows", R"({"name":"w","definition":{"format": 1, "name": "w", "nodes": [
      {"id": "start", "type": "trigger", "trigger": {"kind": "manual"}}, {"id": "done", "type": "end"}],
      "edges": [{"from": "start", "to": "done"}]}})",
                         member);
  REQUIRE(wf.status == 201);
  const std::string wf_id = str(wf.json().at("workflow_id"));
  REQUIRE(f.http->post("/v1/workflows/" + wf_id + "/versions", "", member).status == 200);
  auto run = f.http->post("/v1/workflows/" + wf_id + "/runs", R"({"input":{}})", member);
  REQUIRE(run.status == 201);
  f.last_position = str(run.json().at("position"));

  const auto views_path = ViewFiles(f.dir.str()).current();
  REQUIRE(views_path);
  const auto analyst_a = bearer(a.keys.at("analyst").token);
  const auto analyst_b = bearer(b.keys.at("analyst").token);
  auto count_of = [&](const HttpResult& r) {
    CAPTURE(r.body);
    REQUIRE(r.status == 200);
    return ndjson(r.body).at(0).at("n").as_int64();
  };
  std::map<std::string, const ViewDef*> tables;
  for (const auto& v : view_catalog())
    if (!v.scope.empty() && (v.roles.empty() || std::count(v.roles.begin(), v.roles.end(), "analyst")))
      tables.emplace(v.table, &v);
  REQUIRE(tables.size() >= 8);
  bool some_differ = false;
  for (const auto& [table, v] : tables) {
    CAPTURE(table);
    // The operator counts each organization's rows by the view's own scope predicate.
    auto own = [&](const std::string& org) {
      return count_of(f.sql(f.admin(), "select count(*) as n from main." + table + " where " + scope_sql(*v, org)));
    };
    const std::string statement = "select count(*) as n from " + table;
    const auto a_count = count_of(f.sql(analyst_a, statement));
    const auto b_count = count_of(f.sql(analyst_b, statement));
    CHECK(a_count == own(a.org));
    CHECK(b_count == own(b.org));
    some_differ = some_differ || a_count != b_count;
    // The offline CLI with --tenant answers exactly as A's analysts do.
    auto [rc, out] = run_command(std::string(CAUSEWAY_BINARY) + " query --data-dir " + f.dir.str() + " --tenant " +
                                 a.org + " '" + statement + "' 2>&1");
    CAPTURE(out);
    CHECK(rc == 0);
    CHECK(out == "{\"n\":" + std::to_string(a_count) + "}\n");
  }
  CHECK(some_differ);  // the counts are the caller's own, not a total both would see
}
