#include "tools/admin_cli.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tools/cli_common.h"

namespace causeway::cli {
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;

struct AdminCommands::Call {
  http::verb method = http::verb::post;
  std::string path;  // with the query string
  json::object body;
  bool has_body = true;
  bool to_file = false;  // write the reply to out_ (gdpr export)
};

namespace {

std::string q(const std::string& v) { return boost::urls::encode(v, boost::urls::unreserved_chars); }

std::string read_token(const std::string& data_dir) {
  std::ifstream in(data_dir + "/admin.token");
  std::string t;
  std::getline(in, t);
  return t;
}

// Prints a problem+json reply (or any error body) on stderr.
void print_problem(int status, const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  std::cerr << "causeway: the server answered " << status;
  if (!ec && v.is_object()) {
    auto& o = v.as_object();
    if (auto* t = o.if_contains("title"); t && t->is_string()) std::cerr << " " << t->as_string().c_str();
    if (auto* d = o.if_contains("detail"); d && d->is_string()) std::cerr << ": " << d->as_string().c_str();
    if (auto* errs = o.if_contains("errors"); errs && errs->is_array())
      for (auto& e : errs->as_array())
        if (auto* p = e.as_object().if_contains("pointer"); p && p->is_string())
          std::cerr << " (at " << p->as_string().c_str() << ")";
  } else if (!body.empty()) {
    std::cerr << ": " << body;
  }
  std::cerr << "\n";
}

}  // namespace

void AdminCommands::add(CLI::App& app, const std::function<CLI::Option*(CLI::Option*, const std::string&,
                                                                        const std::string&, const std::string&)>& env) {
  auto common = [&](CLI::App* group, const std::string& name) {
    group->require_subcommand(1);
    env(group->add_option("--server", server_, "base URL of the running server"), name, "--server", "CAUSEWAY_SERVER")
        ->capture_default_str();
    env(group->add_option("--admin-token", admin_token_, "admin bearer token (default: <data-dir>/admin.token)"), name,
        "--admin-token", "CAUSEWAY_ADMIN_TOKEN");
    env(group->add_option("--data-dir", data_dir_, "data folder holding admin.token"), name, "--data-dir",
        "CAUSEWAY_DATA_DIR")
        ->capture_default_str();
  };
  auto sub = [&](CLI::App* group, const char* name, const char* help, std::function<Call()> call) {
    auto* s = group->add_subcommand(name, help);
    s->fallthrough();
    subs_.push_back({s, std::move(call)});
    return s;
  };

  auto* gdpr = app.add_subcommand("gdpr", "legal holds, erasure and subject access exports (through the server)");
  common(gdpr, "gdpr");
  auto user_path = [this](const char* what) { return "/v1/admin/subjects/" + q(user_) + "/" + what; };
  auto* hold = sub(gdpr, "hold", "place a legal hold: the subject cannot be erased", [this, user_path] {
    return Call{http::verb::post, user_path("holds"), {{"reason", reason_}}};
  });
  auto* release = sub(gdpr, "release", "release a legal hold", [this, user_path] {
    return Call{http::verb::delete_, user_path("holds"), {{"reason", reason_}}};
  });
  auto* erase = sub(gdpr, "erase", "erase a subject by destroying their key (refused under a hold)", [this, user_path] {
    Call c{http::verb::post, user_path("erasure"), {{"reason", reason_}}};
    if (!request_id_.empty()) c.body["request_id"] = request_id_;
    return c;
  });
  auto* exp = sub(gdpr, "export", "the subject access bundle (GDPR Art. 15) as JSON", [this, user_path] {
    std::string path = user_path("export") + "?reason=" + q(reason_);
    if (!request_id_.empty()) path += "&request_id=" + q(request_id_);
    Call c{http::verb::get, path, {}, false};
    c.to_file = true;
    return c;
  });
  for (auto* s : {hold, release, erase, exp}) {
    s->add_option("user", user_, "user id (user-<32 hex>)")->required();
    s->add_option("--reason", reason_, "why (recorded)")->required();
  }
  for (auto* s : {erase, exp}) s->add_option("--request-id", request_id_, "the data subject request this fulfils");
  exp->add_option("--out,-o", out_, "file to write, - for stdout")->capture_default_str();

  auto* dsr = app.add_subcommand("dsr", "data subject requests and their deadlines (through the server)");
  common(dsr, "dsr");
  auto* open = sub(dsr, "open", "open a request, due in 30 days", [this] {
    Call c{http::verb::post, "/v1/admin/dsr", {{"subject", subject_}, {"kind", kind_}}};
    if (!note_.empty()) c.body["note"] = note_;
    return c;
  });
  open->add_option("--subject", subject_, "user id")->required();
  open->add_option("--kind", kind_, "access, erasure or portability")->required();
  open->add_option("--note", note_, "checked, not recorded");
  auto* extend = sub(dsr, "extend", "extend the deadline, once", [this] {
    return Call{http::verb::post, "/v1/admin/dsr/" + q(id_) + "/extension", {{"days", days_}, {"reason", reason_}}};
  });
  extend->add_option("--days", days_, "1 to 60")->required();
  extend->add_option("--reason", reason_, "why")->required();
  auto* close = sub(dsr, "close", "close a request", [this] {
    Call c{http::verb::post, "/v1/admin/dsr/" + q(id_) + "/closure", {{"outcome", outcome_}}};
    if (!reason_.empty()) c.body["reason"] = reason_;
    return c;
  });
  close->add_option("--outcome", outcome_, "completed or refused")->required();
  close->add_option("--reason", reason_, "why");
  for (auto* s : {extend, close}) s->add_option("id", id_, "request id (dsr-<32 hex>)")->required();

  auto* ret = app.add_subcommand("retention", "retention policies and sweeps (through the server)");
  common(ret, "retention");
  auto policy_path = [this] { return "/v1/admin/retention-policies/" + q(scope_) + "/" + q(category_); };
  auto* set = sub(ret, "set", "set how long a category's personal data is kept", [this, policy_path] {
    return Call{http::verb::put, policy_path(), {{"max_age_days", max_age_days_}, {"reason", reason_}}};
  });
  set->add_option("--max-age-days", max_age_days_, "1 to 36500")->required();
  auto* remove = sub(ret, "remove", "remove a policy", [this, policy_path] {
    return Call{http::verb::delete_, policy_path(), {{"reason", reason_}}};
  });
  for (auto* s : {set, remove}) {
    s->add_option("scope", scope_, "\"all\" (the default) or an organization id")->required();
    s->add_option("category", category_, "event category, e.g. user")->required();
    s->add_option("--reason", reason_, "why (recorded)")->required();
  }
  sub(ret, "sweep", "destroy the personal data that has expired now, and print the report",
      [] { return Call{http::verb::post, "/v1/admin/retention/sweeps", {}, false}; });
}

std::optional<int> AdminCommands::run() {
  for (const auto& s : subs_)
    if (s.app->parsed()) return send(s.call());
  return std::nullopt;
}

int AdminCommands::send(const Call& c) {
  auto url = boost::urls::parse_uri(server_);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    std::cerr << "causeway: --server must be an http:// URL such as http://127.0.0.1:8080\n";
    return 2;
  }
  std::string token = admin_token_.empty() ? read_token(data_dir_) : admin_token_;
  if (token.empty()) {
    std::cerr << "causeway: no admin token: give --admin-token or a --data-dir holding admin.token\n";
    return 2;
  }
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    boost::beast::tcp_stream stream(io);
    const std::string port = url->has_port() ? std::string(url->port()) : "80";
    stream.connect(resolver.resolve(std::string(url->host()), port));
    http::request<http::string_body> req{c.method, c.path, 11};
    req.set(http::field::host, std::string(url->host()));
    req.set(http::field::authorization, "Bearer " + token);
    if (c.has_body) {
      req.set(http::field::content_type, "application/json");
      req.body() = json::serialize(c.body);
    }
    req.prepare_payload();
    http::write(stream, req);
    boost::beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    http::read(stream, buf, parser);
    auto res = parser.release();
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    if (res.result_int() >= 300) {
      print_problem(res.result_int(), res.body());
      return 2;
    }
    if (c.to_file && out_ != "-") {
      std::ofstream f(out_, std::ios::binary | std::ios::trunc);
      print_json_text(res.body(), f);
      if (!f) {
        std::cerr << "causeway: cannot write " << out_ << "\n";
        return 2;
      }
      return 0;
    }
    print_json_text(res.body());
    return 0;
  } catch (const boost::system::system_error& e) {
    std::cerr << "causeway: cannot reach the server at " << server_ << ": " << e.code().message() << "\n";
    return 2;
  }
}

}  // namespace causeway::cli
