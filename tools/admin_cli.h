// The operator's commands that act through a running server's admin API (the
// server holds the data folder's lock, and these are commands that write):
//
//   causeway gdpr hold|release USER --reason R        legal holds
//   causeway gdpr erase USER --reason R [--request-id ID]
//   causeway gdpr export USER --reason R [--request-id ID] [-o FILE]
//   causeway dsr open --subject USER --kind access|erasure|portability [--note N]
//   causeway dsr extend ID --days N --reason R
//   causeway dsr close ID --outcome completed|refused [--reason R]
//   causeway retention set SCOPE CATEGORY --max-age-days N --reason R
//   causeway retention remove SCOPE CATEGORY --reason R
//   causeway retention sweep
//
// Each prints the server's JSON reply on stdout. A problem+json reply is
// printed on stderr (title, detail, pointer) and exits 2; a server that cannot
// be reached exits 2 too. --server (CAUSEWAY_SERVER) is the base URL,
// http://127.0.0.1:8080 by default; the admin token comes from --admin-token
// (CAUSEWAY_ADMIN_TOKEN) or from <data-dir>/admin.token.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace causeway::cli {

class AdminCommands {
 public:
  // Adds the subcommands to `app`; `env` registers an option's environment
  // variable as main() does for every other subcommand.
  void add(CLI::App& app, const std::function<CLI::Option*(CLI::Option*, const std::string& sub,
                                                           const std::string& flag, const std::string& var)>& env);
  // The exit code of the parsed subcommand, or nullopt when none of these ran.
  std::optional<int> run();

 private:
  struct Call;  // one parsed subcommand: method, path, body (admin_cli.cpp)
  int send(const Call& c);

  std::string server_ = "http://127.0.0.1:8080";
  std::string admin_token_, data_dir_ = "./data";
  std::string user_, reason_, request_id_, out_ = "-";
  std::string subject_, kind_, note_, outcome_, id_;
  std::string scope_, category_;
  std::int64_t days_ = 0, max_age_days_ = 0;
  struct Sub {
    CLI::App* app;
    std::function<Call()> call;
  };
  std::vector<Sub> subs_;
};

}  // namespace causeway::cli
