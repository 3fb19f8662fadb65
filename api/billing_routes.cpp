// Subscription, entitlement and feature-flag routes (docs/billing.md):
//   GET    /v1/plans                                          the plans, limits and features (public)
//   GET    /v1/organizations/{org}/subscription               plan, status, dates, limits, usage
//   POST   /v1/organizations/{org}/subscription/trial         {plan}   start a trial
//   PUT    /v1/organizations/{org}/subscription/plan          {plan}   upgrade or downgrade
//   POST   /v1/organizations/{org}/subscription/cancellation  cancel at the end of the period
//   DELETE /v1/organizations/{org}/subscription/cancellation  withdraw it (reactivate)
//   GET    /v1/organizations/{org}/flags[/{flag}]?subject=    feature flags, evaluated
//   PUT|DELETE /v1/admin/organizations/{org}/flags/{flag}     {value}  an operator's override
//   POST   /v1/billing/webhooks                               the payment provider (signed)
// Organization routes take the operator's token or one of that organization's
// API keys (reading: any role; changing the plan: owner or admin). Another
// organization's key gets 404, as if the organization did not exist.
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "api/json_body.h"
#include "api/routes.h"
#include "engine/commands/traits.h"
#include "engine/workflow/http_call.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::asio::awaitable;

namespace {
constexpr std::int64_t kSignatureToleranceS = 300;

json::object plan_json(const billing::PlanSpec& p) {
  json::array features;
  for (const auto& f : p.features) features.emplace_back(f);
  return json::object{{"name", p.name}, {"tier", p.tier}, {"trial", p.trial}, {"limits", billing::limits_json(p.limits)},
                      {"features", std::move(features)}};
}
}  // namespace

awaitable<Response> Api::billing_route(Request& req, const std::string& request_id,
                                       const std::vector<std::string>& seg, const boost::urls::url_view& url,
                                       std::string& route_name) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  const auto method = req.method();
  auto not_allowed = [&](const char* allow) { return method_not_allowed(allow, instance, request_id, ver); };
  auto ok = [&](const json::object& body) { return json_response(http::status::ok, json::serialize(body), ver); };
  if (!entitlements_) co_return problem(404, "no such route", "", instance, request_id, ver);
  const billing::Plans& plans = entitlements_->plans();

  if (seg.size() == 2 && seg[1] == "plans") {
    route_name = "plans";
    if (method != http::verb::get) co_return not_allowed("GET");
    json::array list;
    for (const auto& [_, p] : plans.all()) list.push_back(plan_json(p));
    co_return ok(json::object{{"default_plan", plans.default_plan().name},
                              {"trial_days", plans.trial_days()},
                              {"grace_days", plans.grace_days()},
                              {"plans", std::move(list)}});
  }

  if (seg.size() == 3 && seg[1] == "billing" && seg[2] == "webhooks") {
    route_name = "billing.webhooks";
    if (method != http::verb::post) co_return not_allowed("POST");
    auto sig = req.find("Causeway-Billing-Signature");
    const std::int64_t now_s = pipeline_.clock().now_us() / 1'000'000;
    if (sig == req.end() || !workflow::verify_webhook_signature(billing_secret_, sig->value(), req.body(), now_s,
                                                                kSignatureToleranceS))
      co_return problem(401, "the Causeway-Billing-Signature header is missing, stale or does not match the body", "",
                        instance, request_id, ver);
    co_return co_await command(req, request_id, "subscription.record_payment", "");
  }

  // /v1/admin/organizations/{org}/flags/{flag}
  if (seg.size() == 6 && seg[1] == "admin") {
    route_name = "admin.flags";
    const bool set = method == http::verb::put;
    if (!set && method != http::verb::delete_) co_return not_allowed("PUT, DELETE");
    if (!is_admin(req)) co_return problem(401, "an admin bearer token is required", "", instance, request_id, ver);
    json::object body;
    if (set) {
      auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
      if (auto* err = std::get_if<BodyError>(&parsed))
        co_return problem(err->status, err->detail, "", instance, request_id, ver);
      auto* o = std::get<json::value>(parsed).if_object();
      if (!o) co_return problem(Error::invalid("the body must be a JSON object", ""), instance, request_id, ver);
      if (o->contains("flag"))
        co_return problem(Error::invalid("the flag is taken from the path, not the body", "/flag"), instance,
                          request_id, ver);
      if (!o->contains("value"))
        co_return problem(Error::invalid("value is required: \"on\", \"off\" or a variant", "/value"), instance,
                          request_id, ver);
      body = std::move(*o);
    } else {
      body["value"] = nullptr;
    }
    body["flag"] = seg[5];
    req.set(http::field::content_type, "application/json");
    req.body() = json::serialize(body);
    co_return co_await command(req, request_id, "subscription.override_flag", seg[3]);
  }

  // /v1/organizations/{org}/subscription[/...] and /v1/organizations/{org}/flags[/{flag}]
  const std::string& org = seg[2];
  route_name = seg[3] == "flags" ? "organizations.flags" : "organizations.subscription";
  auto who = authenticate(req, org);
  if (!who) co_return problem(who.error(), instance, request_id, ver);
  auto missing = [&] { return problem(404, "no such organization", "", instance, request_id, ver); };
  if (!who->admin && who->tenant != org) co_return tenant_denied(missing());
  if (auto st = require_existing<OrganizationAggregate>(pipeline_, org, "no such organization"); !st)
    co_return problem(st.error(), instance, request_id, ver);

  if (seg[3] == "flags" && seg.size() <= 5) {
    if (method != http::verb::get) co_return not_allowed("GET");
    std::string subject = org;
    if (auto it = url.params().find("subject"); it != url.params().end()) subject = (*it).value;
    if (subject.empty() || subject.size() > 255)
      co_return problem(400, "subject must be 1 to 255 characters", "", instance, request_id, ver);
    auto standing = entitlements_->standing(org);
    if (!standing) co_return problem(standing.error(), instance, request_id, ver);
    auto value_of = [&](const billing::FlagSpec& f) {
      std::optional<std::string> over;
      if (auto it = standing->state.overrides.find(f.name); it != standing->state.overrides.end()) over = it->second;
      auto v = billing::Plans::evaluate(f, standing->plan->name, over, subject);
      json::object o{{"flag", f.name}, {"enabled", v.enabled}, {"reason", v.reason}};
      o["variant"] = v.variant.empty() ? json::value(nullptr) : json::value(v.variant);
      return o;
    };
    if (seg.size() == 5) {
      const auto* f = plans.flag(seg[4]);
      if (!f) co_return problem(404, "no such feature flag", "", instance, request_id, ver);
      auto o = value_of(*f);
      o["subject"] = subject;
      co_return ok(o);
    }
    json::array list;
    for (const auto& [_, f] : plans.flags()) list.push_back(value_of(f));
    co_return ok(json::object{{"org_id", org}, {"subject", subject}, {"plan", standing->plan->name},
                              {"flags", std::move(list)}});
  }
  if (seg[3] != "subscription" || seg.size() > 5) co_return problem(404, "no such route", "", instance, request_id, ver);

  if (seg.size() == 4) {
    if (method != http::verb::get) co_return not_allowed("GET");
    auto d = entitlements_->describe(org, pipeline_.clock().now_us());
    if (!d) co_return problem(d.error(), instance, request_id, ver);
    co_return ok(*d);
  }
  // Changes: the operator, or the organization's owner or admin.
  const bool may_change = who->admin || who->role == "owner" || who->role == "admin";
  const std::string& what = seg[4];
  std::string name;
  if (what == "trial") {
    if (method != http::verb::post) co_return not_allowed("POST");
    name = "subscription.start_trial";
  } else if (what == "plan") {
    if (method != http::verb::put) co_return not_allowed("PUT");
    name = "subscription.change_plan";
  } else if (what == "cancellation") {
    if (method != http::verb::post && method != http::verb::delete_) co_return not_allowed("POST, DELETE");
    name = method == http::verb::post ? "subscription.cancel" : "subscription.reactivate";
    if (req.body().empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = "{}";
    }
  } else {
    co_return problem(404, "no such route", "", instance, request_id, ver);
  }
  if (!may_change)
    co_return problem(403, fmt::format("the {} role may not change the subscription", who->role), "", instance,
                      request_id, ver);
  co_return co_await command(req, request_id, name, org, who->admin ? nullptr : &*who);
}

}  // namespace causeway::api
