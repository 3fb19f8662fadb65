// POST /v1/admin/backups: an online backup, taken in-process (the server
// holds the RocksDB lock, so only it can cut a checkpoint of the live log).
//
// Body {"path": "<absolute folder that must not exist>", "include_secrets": false}.
// 201 with the summary (api/backup.h to_json: the key snapshot written with
// it included) and a "warning" about the master key; 401 without the admin token; 422 for an unknown field, a path
// that is not an absolute string, a missing parent or a path inside the data
// folder; 409 when the path exists or another backup is running.
#include <algorithm>
#include <atomic>
#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fmt/format.h>

#include "api/backup.h"
#include "api/json_body.h"
#include "api/log.h"
#include "api/routes.h"
#include "engine/async.h"
#include "events/rocks/rocks_log.h"

namespace causeway::api {
namespace http = boost::beast::http;
namespace json = boost::json;
namespace fs = std::filesystem;
using boost::asio::awaitable;

namespace {

std::atomic<bool> g_backup_running{false};

// RFC 6901: '~' and '/' in a member name are escaped.
std::string pointer_to(std::string_view key) {
  std::string out = "/";
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

// True when `inner` is `outer` or lies below it (both made absolute and
// normalized, symlinks resolved where they exist).
bool within(const fs::path& inner, const fs::path& outer) {
  std::error_code ec;
  auto a = fs::weakly_canonical(fs::absolute(inner, ec), ec);
  auto b = fs::weakly_canonical(fs::absolute(outer, ec), ec);
  if (!b.has_filename()) b = b.parent_path();
  auto [mb, ma] = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return mb == b.end();
}

}  // namespace

awaitable<Response> Api::backup_route(Request& req, const std::string& request_id) {
  const unsigned ver = req.version();
  const std::string instance(req.target());
  if (!is_admin(req)) co_return problem(401, "an admin bearer token is required", "", instance, request_id, ver);
  auto parsed = parse_json_body(req[http::field::content_type], req.body(), cfg_.max_json_depth);
  if (auto* err = std::get_if<BodyError>(&parsed))
    co_return problem(err->status, err->detail, "", instance, request_id, ver);
  BackupOptions opts;
  opts.data_dir = cfg_.data_dir;
  bool has_path = false;
  for (auto& [k, v] : std::get<json::value>(parsed).as_object()) {
    if (k == "path") {
      if (!v.is_string() || v.as_string().empty())
        co_return problem(422, "path must be a non-empty string", "/path", instance, request_id, ver);
      opts.target = std::string(v.as_string());
      has_path = true;
    } else if (k == "include_secrets") {
      if (!v.is_bool()) co_return problem(422, "include_secrets must be true or false", "/include_secrets", instance,
                                          request_id, ver);
      opts.include_secrets = v.as_bool();
    } else {
      co_return problem(422, fmt::format("unknown field {}", std::string_view(k)), pointer_to(k), instance,
                        request_id, ver);
    }
  }
  if (!has_path) co_return problem(422, "path is required", "/path", instance, request_id, ver);
  const fs::path target(opts.target);
  if (!target.is_absolute())
    co_return problem(422, "path must be an absolute folder path", "/path", instance, request_id, ver);
  if (within(target, cfg_.data_dir))
    co_return problem(422, "path must be outside the data folder", "/path", instance, request_id, ver);
  std::error_code ec;
  if (fs::exists(fs::symlink_status(target, ec)))
    co_return problem(409, "path already exists; a backup goes into a new folder", "/path", instance, request_id, ver);

  // The server's own secrets: a key given inline (--master-key, --admin-token)
  // is in no file and is never written out.
  if (cfg_.master_key_hex.empty())
    opts.master_key_file = cfg_.master_key_file.empty() ? cfg_.data_dir + "/master.key" : cfg_.master_key_file;
  if (cfg_.admin_token.empty()) opts.admin_token_file = cfg_.data_dir + "/admin.token";
  opts.key_snapshots = key_snapshots_;
  auto* rocks = dynamic_cast<RocksEventLog*>(&log_);  // backups are of the embedded log only
  if (!rocks || !key_snapshots_) co_return problem(501, "backups need the embedded log", "", instance, request_id, ver);
  if (g_backup_running.exchange(true))
    co_return problem(409, "another backup is running; retry when it has finished", "", instance, request_id, ver);
  struct Done {
    ~Done() { g_backup_running = false; }
  } done;

  // Off the I/O threads: copying files takes a while. Captures by reference
  // only (GCC 12 destroys a temporary lambda with owning captures twice when it
  // is built inside a co_await expression).
  auto made = co_await run_on(pipeline_.cpu(), [&]() -> Result<BackupSummary> { return create_backup(*rocks, opts); });
  if (!made) {
    const auto& e = made.error();
    if (e.code == Errc::corruption || e.code == Errc::unavailable)
      log_fields(spdlog::level::err, "backup failed",
                 {{"request_id", request_id}, {"code", errc_name(e.code)}, {"error", e.message}});
    co_return problem(e, instance, request_id, ver);
  }
  json::object body = to_json(*made);
  const bool has_key = std::find(made->secrets.begin(), made->secrets.end(), "master.key") != made->secrets.end();
  body["warning"] = has_key
                        ? "this backup contains the master key: anyone who can read it can read the personal data"
                        : "this backup does not contain the master key or the admin token: keep the master key "
                          "safe separately, a restore needs it to read the personal data";
  log_fields(spdlog::level::info, "backup written",
             {{"request_id", request_id}, {"position", made->log_position.str()}, {"files", made->files}});
  co_return json_response(http::status::created, json::serialize(body), ver);
}

}  // namespace causeway::api
