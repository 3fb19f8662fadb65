#include "engine/workflow/dry_run.h"

#include <fmt/format.h>

namespace causeway::workflow {
namespace json = boost::json;

namespace {

class Driver {
 public:
  Driver(const Definition& def, std::map<std::string, std::vector<json::object>> mocks, std::int64_t now)
      : def_(def), mocks_(std::move(mocks)), now_(now) {}

  void record(Step& step) {
    for (auto& e : step.events) out_.events.push_back({now_, std::move(e.type), std::move(e.data)});
    for (auto& fx : step.effects) effects_.push_back(std::move(fx));
  }

  DryRun run(const StartInfo& info, std::size_t max_events, std::size_t max_decisions) {
    auto first = start(def_, s_, c_, info, now_);
    record(first);
    std::size_t decisions = 1;
    while (s_.status == run::Status::running && out_.events.size() < max_events &&
           (max_decisions == 0 || decisions < max_decisions)) {
      ++decisions;
      std::vector<Outcome> outcomes;
      for (const auto& fx : effects_) outcomes.push_back(outcome_of(fx));
      effects_.clear();
      std::vector<Arrival> arrivals = arrivals_now();
      if (outcomes.empty() && arrivals.empty()) {
        const std::int64_t due = next_due(s_);
        if (!due) break;  // nothing can happen any more
        now_ = std::max(now_, due);
      }
      auto step = advance(def_, s_, c_, outcomes, arrivals, now_);
      record(step);
    }
    out_.status = run::status_name(s_.status);
    out_.ended_at_us = now_;
    out_.state = s_;
    out_.context = c_;
    return std::move(out_);
  }

 private:
  std::optional<json::object> next_mock(const std::string& node) {
    auto it = mocks_.find(node);
    if (it == mocks_.end() || used_[node] >= it->second.size()) return std::nullopt;
    return it->second[used_[node]++];
  }

  Outcome outcome_of(const Effect& fx) {
    Outcome o;
    o.node = fx.node;
    o.visit = fx.visit;
    o.attempt = fx.attempt;
    auto mock = next_mock(fx.node);
    if (!mock) {
      out_.warnings.push_back(fmt::format("no mock left for node '{}' (attempt {}): assumed it succeeded", fx.node,
                                          fx.attempt));
      o.ok = true;
      json::object output;
      if (fx.kind == "http") {
        output["status"] = 200;
        output["body"] = json::object();
        output["headers"] = json::object();
      } else {
        output["run_id"] = "dry-run";
      }
      o.output = std::move(output);
      return o;
    }
    if (auto* cls = mock->if_contains("error_class"); cls && cls->is_string()) {
      o.error_class = std::string(cls->as_string());
      auto* err = mock->if_contains("error");
      o.error = err && err->is_string() ? std::string(err->as_string()) : "mocked failure";
      return o;
    }
    o.ok = true;
    if (auto* v = mock->if_contains("output")) o.output = *v;
    return o;
  }

  // Waiting nodes with a payload mock get their event now; the others, whose
  // mocks say timeout or are missing, wait for their timeout timer.
  std::vector<Arrival> arrivals_now() {
    std::vector<Arrival> out;
    for (const auto& [key, p] : s_.pending) {
      if (p.phase != run::Phase::event_wait || answered_.contains(key)) continue;
      answered_.insert(key);
      auto mock = next_mock(p.node);
      if (!mock) {
        out_.warnings.push_back(
            fmt::format("no mock for wait node '{}': assumed no event arrives (its timeout applies)", p.node));
        continue;
      }
      if (!mock->contains("payload")) continue;
      Arrival a;
      a.node = p.node;
      a.visit = p.visit;
      a.event_type = p.event_type;
      a.payload = mock->at("payload");
      out.push_back(std::move(a));
    }
    return out;
  }

  const Definition& def_;
  std::map<std::string, std::vector<json::object>> mocks_;
  std::map<std::string, std::size_t> used_;
  std::set<std::string> answered_;
  std::int64_t now_;
  run::State s_;
  run::Context c_;
  std::vector<Effect> effects_;
  DryRun out_;
};

}  // namespace

DryRun dry_run(const Definition& def, const StartInfo& info, std::map<std::string, std::vector<json::object>> mocks,
               std::int64_t start_us, std::size_t max_events, std::size_t max_decisions) {
  Driver d(def, std::move(mocks), start_us);
  return d.run(info, max_events, max_decisions);
}

}  // namespace causeway::workflow
