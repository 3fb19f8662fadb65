// Workflow and run routes, for an organization's API key (its tenant; the
// operator's token has no tenant and is refused here). Writers are the owner,
// admin and member roles; every tenant role reads.
//   POST /v1/workflows                          workflow.create {name, definition | template | fork_from}
//   GET  /v1/workflows/templates                the template library
//   POST /v1/workflows/validations              {definition} -> every problem, nothing written
//   GET  /v1/workflows/webhook-secret           the key of the Causeway-Signature header (owner, admin)
//   GET  /v1/workflows/{id}                     draft, versions, status
//   PUT  /v1/workflows/{id}/draft               workflow.update_draft {name, definition}
//   POST /v1/workflows/{id}/versions            workflow.publish
//   GET  /v1/workflows/{id}/versions/{n}        one published version's definition
//   POST /v1/workflows/{id}/archive             workflow.archive {reason}
//   PUT  /v1/workflows/{id}/sharing             workflow.share {public}
//   POST /v1/workflows/{id}/runs                run.start {input, version?, subject?}
//   POST /v1/workflows/{id}/dry-runs            {input, version? | draft, mocks?} -> events; nothing written
//   GET  /v1/runs/{id}                          status, live nodes, context (opened)
//   GET  /v1/runs/{id}/events                   the run's event timeline (opened)
//   POST /v1/runs/{id}/cancellation             run.cancel {reason}
//   POST /v1/runs/{id}/restart                  run.restart (a failed run, from its failed step)
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <fmt/format.h>

#include "api/json_body.h"
#include "api/routes.h"
#include "engine/commands/traits.h"
#include "engine/ids.h"
#include "engine/workflow/dry_run.h"
#include "engine/workflow/templates.h"
#include "events/codec.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

namespace {

bool writer(const Principal& p) { return p.role == "owner" || p.role == "admin" || p.role == "member"; }

// The run's live nodes, as GET /v1/runs/{id} and the dry-run show them.
json::array live_nodes(const run::State& s) {
  static const char* phases[] = {"ready", "started", "retry_wait", "delay_wait", "event_wait", "joining"};
  json::array live;
  for (const auto& [key, p] : s.pending) {
    json::object o{{"node", p.node}, {"visit", p.visit}, {"attempt", p.attempt},
                   {"phase", phases[static_cast<int>(p.phase)]}};
    if (p.due_at) o["due_at"] = rfc3339_us(p.due_at);
    live.push_back(std::move(o));
  }
  return live;
}

json::object version_json(const workflow_agg::Version& v) {
  json::object o;
  o["version"] = v.number;
  o["hash"] = v.hash;
  return o;
}

}  // namespace

awaitable<Response> Api::workflow_route(Request& req, const std::string& request_id,
                                        const std::vector<std::string>& seg, std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  const auto method = req.method();
  auto not_allowed = [&](const char* allow) { return method_not_allowed(allow, instance, request_id, ver); };
  route_name = "workflows";
  auto who = authenticate(req);
  if (!who) co_return problem(who.error(), instance, request_id, ver);
  if (who->admin)
    co_return problem(403, "workflows belong to one organization: use one of its API keys", "", instance, request_id,
                      ver);
  auto forbidden = [&] {
    return problem(403, fmt::format("the {} role may not change workflows or runs", who->role), "", instance,
                   request_id, ver);
  };
  auto ok = [&](const json::object& body) { return json_response(http::status::ok, json::serialize(body), ver); };

  if (seg.size() == 2 && method == http::verb::get) {
    // The organization's workflows: the workflows view, with its filters and paging.
    route_name = "workflows.list";
    auto url = boost::urls::parse_origin_form(req.target());
    if (!url) co_return problem(400, "the request target is not a valid URL", "", instance, request_id, ver);
    co_return co_await read_view(req, request_id, "workflows", *url);
  }
  if (seg.size() == 2) {
    route_name = "workflows.create";
    if (method != http::verb::post) co_return not_allowed("GET, POST");
    if (!writer(*who)) co_return forbidden();
    co_return co_await command(req, request_id, "workflow.create", who->tenant, &*who);
  }
  if (seg.size() == 3 && seg[2] == "templates") {
    route_name = "workflows.templates";
    if (method != http::verb::get) co_return not_allowed("GET");
    json::array list;
    for (const auto& name : workflow::template_names()) {
      boost::system::error_code ec;
      auto def = json::parse(*workflow::template_text(name), ec);
      list.push_back(json::object{{"name", name}, {"definition", ec ? json::value() : def}});
    }
    co_return ok(json::object{{"templates", std::move(list)}});
  }
  if (seg.size() == 3 && seg[2] == "validations") {
    route_name = "workflows.validate";
    if (method != http::verb::post) co_return not_allowed("POST");
    auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
    if (auto* err = std::get_if<BodyError>(&parsed))
      co_return problem(err->status, err->detail, "", instance, request_id, ver);
    auto* body = std::get<json::value>(parsed).if_object();
    if (!body || !body->contains("definition") || body->size() != 1)
      co_return problem(Error::invalid("the body is {\"definition\": {...}}", "/definition"), instance, request_id,
                        ver);
    auto report = workflow::validate(body->at("definition"), pipeline_.schemas()).prefixed("/definition");
    json::object out = report.to_json();
    out["hash"] = workflow::content_hash(body->at("definition"));
    co_return ok(out);
  }
  if (seg.size() == 3 && seg[2] == "webhook-secret") {
    route_name = "workflows.webhook_secret";
    if (method != http::verb::get) co_return not_allowed("GET");
    if (who->role != "owner" && who->role != "admin")
      co_return problem(403, "only owners and admins read the webhook secret", "", instance, request_id, ver);
    auto secrets = executor_->webhook_secrets(who->tenant);
    if (!secrets) co_return problem(secrets.error(), instance, request_id, ver);
    json::object out{{"secret", secrets->current},
                     {"generation", secrets->generation},
                     {"header", "Causeway-Signature"},
                     {"scheme", "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">"}};
    // While a rotated-out secret still signs, each request carries a second v1= entry.
    if (!secrets->previous.empty()) out["previous_valid_until"] = rfc3339_us(secrets->previous_until_us);
    co_return ok(out);
  }
  if (seg.size() == 4 && seg[2] == "webhook-secret" && seg[3] == "rotation") {
    route_name = "workflows.webhook_secret.rotate";
    if (method != http::verb::post) co_return not_allowed("POST");
    if (who->role != "owner" && who->role != "admin")
      co_return problem(403, "only owners and admins rotate the webhook secret", "", instance, request_id, ver);
    if (req.body().empty()) {  // no body: the default grace period
      req.body() = "{}";
      req.set(http::field::content_type, "application/json");
      req.prepare_payload();
    }
    // The reply names the new generation only: read the secret with GET.
    co_return co_await command(req, request_id, "organization.rotate_webhook_secret", who->tenant, &*who);
  }
  const std::string& id = seg[2];
  if (!is_id(id, "workflow")) co_return problem(404, "no such workflow", "", instance, request_id, ver);
  auto wf = pipeline_.aggregates().load<WorkflowAggregate>(workflow_agg::stream_of(id));
  if (!wf) co_return problem(wf.error(), instance, request_id, ver);
  if (!wf->state.exists) co_return problem(404, "no such workflow", "", instance, request_id, ver);
  if (wf->state.org_id != who->tenant)  // another organization's: the same answer, recorded as a denial
    co_return tenant_denied(problem(404, "no such workflow", "", instance, request_id, ver));
  const auto& st = wf->state;

  if (seg.size() == 3) {
    route_name = "workflows.get";
    if (method != http::verb::get) co_return not_allowed("GET");
    boost::system::error_code ec;
    auto draft = json::parse(st.draft, ec);
    json::array versions;
    for (const auto& v : st.versions) versions.push_back(version_json(v));
    json::object out{{"workflow_id", st.workflow_id}, {"org_id", st.org_id},      {"name", st.name},
                     {"archived", st.archived},       {"public", st.is_public},   {"draft", draft},
                     {"draft_hash", st.draft_hash},   {"versions", versions},     {"stream_version", wf->version}};
    out["validation"] = workflow::validate(draft, pipeline_.schemas()).prefixed("/draft").to_json();
    auto res = ok(out);
    res.set(http::field::etag, fmt::format("\"{}\"", wf->version));
    co_return res;
  }
  const std::string& what = seg[3];
  if (seg.size() == 5 && what == "versions") {
    route_name = "workflows.version";
    if (method != http::verb::get) co_return not_allowed("GET");
    std::int64_t n = 0;
    auto [p, errc] = std::from_chars(seg[4].data(), seg[4].data() + seg[4].size(), n);
    const workflow_agg::Version* v = errc == std::errc() && p == seg[4].data() + seg[4].size() ? st.by_number(n) : nullptr;
    if (!v) co_return problem(404, "no such version", "", instance, request_id, ver);
    boost::system::error_code ec;
    json::object out = version_json(*v);
    out["definition"] = json::parse(v->definition, ec);
    co_return ok(out);
  }
  if (seg.size() != 4) co_return problem(404, "no such route", "", instance, request_id, ver);
  if (what == "versions" && method == http::verb::get) {
    // The published versions, oldest first: the workflow_versions view of this
    // workflow, with its paging (the cursor is stable: versions only append).
    route_name = "workflows.versions";
    auto url = boost::urls::parse_origin_form(req.target());
    if (!url) co_return problem(400, "the request target is not a valid URL", "", instance, request_id, ver);
    if (url->params().contains("workflow_id") || url->params().contains("sort"))
      co_return problem(400, "workflow_id and sort are set by the route", "", instance, request_id, ver);
    boost::urls::url scoped(*url);
    scoped.params().append({"workflow_id", id});
    scoped.params().append({"sort", "version"});
    co_return co_await read_view(req, request_id, "workflow_versions", scoped);
  }
  if (what == "dry-runs") {
    route_name = "workflows.dry_run";
    if (method != http::verb::post) co_return not_allowed("POST");
    co_return co_await dry_run(req, request_id, *who, id);
  }
  struct Change {
    const char* path;
    http::verb verb;
    const char* allow;
    const char* command;
    const char* route;
  };
  static const Change changes[] = {
      {"draft", http::verb::put, "PUT", "workflow.update_draft", "workflows.draft"},
      {"versions", http::verb::post, "GET, POST", "workflow.publish", "workflows.publish"},
      {"archive", http::verb::post, "POST", "workflow.archive", "workflows.archive"},
      {"sharing", http::verb::put, "PUT", "workflow.share", "workflows.share"},
      {"runs", http::verb::post, "POST", "run.start", "runs.start"},
  };
  for (const auto& c : changes) {
    if (what != c.path) continue;
    route_name = c.route;
    if (method != c.verb) co_return not_allowed(c.allow);
    if (!writer(*who)) co_return forbidden();
    if (what == "versions" && req.body().empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = "{}";
    }
    if (what != "runs") co_return co_await command(req, request_id, c.command, id, &*who);
    // The run id is new; the workflow is named in the body.
    auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
    if (auto* err = std::get_if<BodyError>(&parsed))
      co_return problem(err->status, err->detail, "", instance, request_id, ver);
    auto* body = std::get<json::value>(parsed).if_object();
    if (!body) co_return problem(Error::invalid("the body must be a JSON object"), instance, request_id, ver);
    if (body->contains("workflow_id") || body->contains("trigger"))
      co_return problem(Error::invalid("this field is set by the route", body->contains("trigger") ? "/trigger"
                                                                                                 : "/workflow_id"),
                        instance, request_id, ver);
    (*body)["workflow_id"] = id;
    req.body() = json::serialize(*body);
    // With an Idempotency-Key the run id derives from it — scoped like stored
    // replies, to the tenant and the calling key — so a retry finds the same
    // command (and gets its stored reply) instead of starting a second run.
    std::string run_id = new_id_near("run", pipeline_.clock().now_us(), log_, who->tenant);
    if (auto key = req.find("Idempotency-Key"); key != req.end())
      run_id = derived_id_near("run", who->tenant + "\n" + actor_of(*who).id + "\n" + std::string(key->value()), log_,
                               who->tenant);
    auto res = co_await command(req, request_id, "run.start", run_id, &*who);
    if (res.result_int() < 300) executor_->kick(run_id);
    co_return res;
  }
  co_return problem(404, "no such route", "", instance, request_id, ver);
}

awaitable<Response> Api::dry_run(Request& req, const std::string& request_id, const Principal& who,
                                 const std::string& workflow_id) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
  if (auto* err = std::get_if<BodyError>(&parsed))
    co_return problem(err->status, err->detail, "", instance, request_id, ver);
  auto* body = std::get<json::value>(parsed).if_object();
  if (!body) co_return problem(Error::invalid("the body must be a JSON object"), instance, request_id, ver);
  for (const auto& [k, v] : *body)
    if (k != "input" && k != "version" && k != "draft" && k != "mocks" && k != "start_at" && k != "steps")
      co_return problem(Error::invalid(fmt::format("unknown field '{}'", std::string(k)), "/" + std::string(k)),
                        instance, request_id, ver);
  auto wf = pipeline_.aggregates().load<WorkflowAggregate>(workflow_agg::stream_of(workflow_id));
  if (!wf) co_return problem(wf.error(), instance, request_id, ver);
  const auto& st = wf->state;
  // Which definition: the draft, a given version, or the latest one.
  std::string text = st.draft, hash = st.draft_hash;
  std::int64_t number = 0;
  if (auto* d = body->if_contains("draft"); d && !d->is_bool())
    co_return problem(Error::invalid("draft must be true or false", "/draft"), instance, request_id, ver);
  const bool draft = body->contains("draft") && body->at("draft").as_bool();
  if (draft && body->contains("version"))
    co_return problem(Error::invalid("give either draft or version", "/version"), instance, request_id, ver);
  if (!draft) {
    const workflow_agg::Version* v = st.latest();
    if (auto* n = body->if_contains("version")) {
      if (!n->is_int64()) co_return problem(Error::invalid("version must be an integer", "/version"), instance, request_id, ver);
      v = st.by_number(n->as_int64());
      if (!v) co_return problem(Error::invalid("no such version", "/version"), instance, request_id, ver);
    }
    if (!v)
      co_return problem(Error::conflict("the workflow has no published version: dry-run the draft with \"draft\": true"),
                        instance, request_id, ver);
    text = v->definition;
    hash = v->hash;
    number = v->number;
  }
  boost::system::error_code ec;
  auto doc = json::parse(text, ec);
  // One analysis gives the graph and the warnings. Not through the catalog's
  // cache: drafts change with every edit and would pile up there.
  workflow::Report report;
  auto def = workflow::compile(doc, pipeline_.schemas(), &report);
  if (!def)
    co_return problem(Error::invalid(fmt::format("the definition is not valid: {}", def.error().message),
                                     "/definition" + def.error().pointer),
                      instance, request_id, ver);
  json::object input;
  if (auto* in = body->if_contains("input")) {
    if (!in->is_object()) co_return problem(Error::invalid("input must be an object", "/input"), instance, request_id, ver);
    input = in->as_object();
  }
  auto checked = workflow::check_input(**def, input);
  if (!checked) co_return problem(checked.error(), instance, request_id, ver);
  std::map<std::string, std::vector<json::object>> mocks;
  if (auto* m = body->if_contains("mocks")) {
    if (!m->is_object()) co_return problem(Error::invalid("mocks must be an object of node id -> list", "/mocks"), instance, request_id, ver);
    for (const auto& [node, list] : m->as_object()) {
      const std::string ptr = "/mocks/" + std::string(node);
      if (!(*def)->index.contains(std::string(node)))
        co_return problem(Error::invalid("no node has this id", ptr), instance, request_id, ver);
      if (!list.is_array()) co_return problem(Error::invalid("a node's mocks are a list", ptr), instance, request_id, ver);
      for (const auto& item : list.as_array()) {
        if (!item.is_object()) co_return problem(Error::invalid("a mock is an object", ptr), instance, request_id, ver);
        mocks[std::string(node)].push_back(item.as_object());
      }
    }
  }
  std::int64_t start_us = pipeline_.clock().now_us();
  if (auto* at = body->if_contains("start_at")) {
    auto t = at->is_string() ? parse_rfc3339_us(std::string(at->as_string())) : std::nullopt;
    if (!t) co_return problem(Error::invalid("start_at is an RFC 3339 time", "/start_at"), instance, request_id, ver);
    start_us = *t;
  }
  std::size_t steps = 0;
  if (auto* n = body->if_contains("steps")) {
    if (!n->is_int64() || n->as_int64() < 1 || n->as_int64() > 10'000)
      co_return problem(Error::invalid("steps is a whole number of decisions from 1 to 10000", "/steps"), instance,
                        request_id, ver);
    steps = static_cast<std::size_t>(n->as_int64());
  }
  workflow::StartInfo info;
  info.run_id = "run-dry";
  info.org_id = who.tenant;
  info.workflow_id = workflow_id;
  info.hash = hash;
  info.version = number;
  info.subject = info.run_id;
  info.input = std::move(checked).value();
  info.trigger["kind"] = "dry_run";
  auto result = workflow::dry_run(**def, info, std::move(mocks), start_us, 10'000, steps);
  json::array events;
  for (const auto& e : result.events)
    events.push_back(json::object{{"at", rfc3339_us(e.at_us)}, {"type", e.type}, {"data", e.data}});
  json::array warnings(result.warnings.begin(), result.warnings.end());
  for (const auto& w : report.warnings) warnings.push_back(json::string(w.message));
  json::object out{{"status", result.status}, {"events", std::move(events)}, {"warnings", std::move(warnings)},
                   {"ended_at", rfc3339_us(result.ended_at_us)}, {"hash", hash},
                   {"live", live_nodes(result.state)}, {"context", result.context.as_object()}};
  co_return json_response(http::status::ok, json::serialize(out), ver);
}

awaitable<Response> Api::run_route(Request& req, const std::string& request_id, const std::vector<std::string>& seg,
                                   std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  const auto method = req.method();
  route_name = "runs";
  auto who = authenticate(req);
  if (!who) co_return problem(who.error(), instance, request_id, ver);
  if (who->admin)
    co_return problem(403, "runs belong to one organization: use one of its API keys", "", instance, request_id, ver);
  const std::string& id = seg[2];
  if (!is_id(id, "run")) co_return problem(404, "no such run", "", instance, request_id, ver);
  auto loaded = pipeline_.aggregates().load<RunAggregate>(run::stream_of(id));
  if (!loaded) co_return problem(loaded.error(), instance, request_id, ver);
  const run::State& s = loaded->state;
  if (s.status == run::Status::none) co_return problem(404, "no such run", "", instance, request_id, ver);
  if (s.org_id != who->tenant)  // another organization's: the same answer, recorded as a denial
    co_return tenant_denied(problem(404, "no such run", "", instance, request_id, ver));
  auto allow = [&](const char* a) { return method_not_allowed(a, instance, request_id, ver); };

  if (seg.size() == 3) {
    route_name = "runs.get";
    if (method != http::verb::get) co_return allow("GET");
    json::object out{{"run_id", id},
                     {"workflow_id", s.workflow_id},
                     {"version", s.version},
                     {"hash", s.hash},
                     {"status", run::status_name(s.status)},
                     {"stuck", s.stuck},
                     {"started_at", rfc3339_us(s.started_at)},
                     {"last_progress_at", rfc3339_us(s.last_progress_at)},
                     {"live", live_nodes(s)},
                     {"stream_version", loaded->version}};
    // The context is personal data: for the roles that run workflows only.
    if (writer(*who)) {
      auto def = catalog_->definition(s.workflow_id, s.hash);
      if (!def) co_return problem(def.error(), instance, request_id, ver);
      auto ctx = catalog_->context(id, loaded->version, **def);
      if (!ctx) co_return problem(ctx.error(), instance, request_id, ver);
      out["context"] = ctx->as_object();
    }
    co_return json_response(http::status::ok, json::serialize(out), ver);
  }
  if (seg.size() != 4) co_return problem(404, "no such route", "", instance, request_id, ver);
  if (seg[3] == "events") {
    route_name = "runs.events";
    if (method != http::verb::get) co_return allow("GET");
    if (!writer(*who))
      co_return problem(403, fmt::format("a run's events hold personal data: the {} role may not read them", who->role),
                        "", instance, request_id, ver);
    std::uint64_t from = 1, limit = 1000;
    auto url = boost::urls::parse_origin_form(req.target());
    for (auto p : url->params()) {
      const std::string value = p.value;
      std::uint64_t n = 0;
      auto [end, errc] = std::from_chars(value.data(), value.data() + value.size(), n);
      const bool number = errc == std::errc() && end == value.data() + value.size() && n > 0;
      if (p.key == "from_version" && number) from = n;
      else if (p.key == "limit" && number && n <= 1000) limit = n;
      else co_return problem(400, "use from_version (from 1) and limit (1 to 1000)", "", instance, request_id, ver);
    }
    auto events = log_.read_stream(run::stream_of(id), from, limit);
    if (!events) co_return problem(events.error(), instance, request_id, ver);
    json::array list;
    for (const auto& e : *events) {
      boost::system::error_code ec;
      auto data = json::parse(e.data, ec);
      if (!ec) (void)vault_.open_all(data);
      list.push_back(json::object{{"version", e.stream_version},
                                  {"position", e.position},
                                  {"at", rfc3339_us(e.occurred_at_us)},
                                  {"type", e.type},
                                  {"actor", e.actor.id},
                                  {"data", std::move(data)}});
    }
    json::object out{{"events", std::move(list)}};
    out["next_from_version"] = from + events->size() <= loaded->version ? json::value(from + events->size())
                                                                       : json::value(nullptr);
    co_return json_response(http::status::ok, json::serialize(out), ver);
  }
  const char* name = seg[3] == "cancellation" ? "run.cancel" : seg[3] == "restart" ? "run.restart" : nullptr;
  if (!name) co_return problem(404, "no such route", "", instance, request_id, ver);
  route_name = seg[3] == "cancellation" ? "runs.cancel" : "runs.restart";
  if (method != http::verb::post) co_return allow("POST");
  if (!writer(*who)) co_return problem(403, fmt::format("the {} role may not change runs", who->role), "", instance, request_id, ver);
  if (req.body().empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = "{}";
  }
  auto res = co_await command(req, request_id, name, id, &*who);
  if (res.result_int() < 300) executor_->kick(id);
  co_return res;
}

}  // namespace causeway::api
