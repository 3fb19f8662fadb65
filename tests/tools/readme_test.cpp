// The README's "Try it" block (the ```sh block under "## Try it" in README.md),
// read at run time and run command by command against a real `causeway serve`,
// so the documentation users follow cannot rot: every command must exit 0 and
// print no problem+json answer (curl -s exits 0 on an HTTP error).
//
// The README runs from a folder holding the server's data folder `data` and
// the binary `build/tools/causeway`, against localhost:8080. Here the commands
// run with /bin/sh in a temporary folder holding the server's `data` (so
// `data/...` and `--data-dir data` hold as written), `localhost:8080` becomes
// the server's port, `build/tools/causeway` the built binary, and the admin
// CLI reaches the server through CAUSEWAY_SERVER.
//
// Placeholders: the README elides ids and tokens as `user-…`, `org-…`,
// `cwa_…`, `cwt_…`, …; `cwa_…(bea)` is bea's. Each command's output teaches
// the latest value of each kind for the command's person: the `(who)` of its
// placeholders, else (for a command with no placeholders: a signup or a login)
// the person of its `"email":"who@example.com"`, else ann, the README's reader,
// whose values the unsuffixed placeholders stand for. A value once learned as
// one person's is never learned as another's (a member list names both).
//
// Mail files and runs appear on the server's own threads (the outbox, the
// workflow dispatcher), a moment after the command that causes them: a command
// reading them is retried until it succeeds, for at most 20 s.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/temp_dir.h"

extern char** environ;

using namespace causeway::testing;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

const std::string kEllipsis = "\xE2\x80\xA6";  // "…", as the README writes an elided id or token
const std::string kReader = "ann";              // whose values the unsuffixed placeholders stand for

// The kinds of values a placeholder stands for: its prefix and the real value's pattern.
struct Kind {
  std::string prefix;
  std::string pattern;
};
const std::vector<Kind>& kinds() {
  static const std::vector<Kind> all = {
      {"user-", "user-[0-9a-f]{32}"},         {"org-", "org-[0-9a-f]{32}"},
      {"workflow-", "workflow-[0-9a-f]{32}"}, {"run-", "run-[0-9a-f]{32}"},
      {"key-", "key-[0-9a-f]{32}"},           {"cwk_", "cwk_[0-9a-f]{32}_[0-9a-f]{64}"},
      {"cwa_", "cwa_[0-9a-f]{32}_[0-9a-f]{64}"}, {"cwt_", "cwt_[0-9a-f]{32}_[0-9a-f]{32}_[0-9a-f]{64}"}};
  return all;
}

// A placeholder: "<prefix>…" with an optional "(who)"; group 1 the prefix, 3 the person.
const std::regex& placeholder_re() {
  static const std::regex re("([a-z]+[-_])" + kEllipsis + "(\\(([a-z]+)\\))?");
  return re;
}

std::string trimmed_left(const std::string& s) {
  const auto at = s.find_first_not_of(" \t");
  return at == std::string::npos ? std::string() : s.substr(at);
}

// The lines of the first ```sh block after the "## Try it" heading (empty when there is none).
std::vector<std::string> try_it_lines(const std::string& readme) {
  std::ifstream in(readme);
  std::vector<std::string> out;
  std::string line;
  enum { before, heading, block } where = before;
  while (std::getline(in, line)) {
    if (where == before && line == "## Try it") where = heading;
    else if (where == heading && line.rfind("```sh", 0) == 0) where = block;
    else if (where == block && line.rfind("```", 0) == 0) return out;
    else if (where == block) out.push_back(line);
  }
  return {};  // no block, or not closed
}

// The quote open after `line` as /bin/sh reads it (0, '\'' or '"'), given the one
// open before it; an unquoted "#" after a blank starts a comment.
char quote_after(const std::string& line, char quote) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote == '\'') {
      if (c == '\'') quote = 0;
    } else if (c == '\\') {
      ++i;  // escaped, outside single quotes
    } else if (quote == '"') {
      if (c == '"') quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      break;
    }
  }
  return quote;
}

// The block's commands: blank and comment lines (outputs shown as "# {...}"
// too) dropped, backslash-continued lines joined, and a quote left open (JSON
// spanning lines) continued on the next line with its line break.
std::vector<std::string> commands_of(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  std::string command;
  char quote = 0;
  bool continued = false;
  for (std::string line : lines) {
    if (!continued && (trimmed_left(line).empty() || trimmed_left(line)[0] == '#')) continue;
    quote = quote_after(line, quote);
    continued = quote != 0;
    if (quote == 0) {
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
      if (!line.empty() && line.back() == '\\') {
        line.pop_back();
        continued = true;
      }
    }
    command += line;
    if (quote != 0) command += '\n';
    if (continued) continue;
    out.push_back(command);
    command.clear();
  }
  return out;
}

// The values learned so far: per person, the latest of each kind; and whose each value is.
struct Learned {
  std::map<std::string, std::map<std::string, std::string>> values;  // person -> prefix -> value
  std::map<std::string, std::string> owner;                           // value -> person
};

// Whose command this is (see the top of the file).
std::string person_of(const std::string& command) {
  bool placeholders = false;
  for (std::sregex_iterator it(command.begin(), command.end(), placeholder_re()), end; it != end; ++it) {
    placeholders = true;
    if ((*it)[3].matched) return (*it)[3].str();
  }
  static const std::regex email("\"email\":\"([a-z]+)@example\\.com\"");
  std::smatch m;
  if (!placeholders && std::regex_search(command, m, email)) return m[1].str();
  return kReader;
}

// Learns from `output` every value of every kind, as `person`'s.
void learn(Learned& l, const std::string& person, const std::string& output) {
  for (const auto& kind : kinds()) {
    const std::regex re("(^|[^0-9a-zA-Z_-])(" + kind.pattern + ")(?![0-9a-f])");
    for (std::sregex_iterator it(output.begin(), output.end(), re), end; it != end; ++it) {
      const std::string value = (*it)[2].str();
      const auto o = l.owner.find(value);
      if (o != l.owner.end() && o->second != person) continue;  // someone else's
      l.owner[value] = person;
      l.values[person][kind.prefix] = value;
    }
  }
}

// `command` as it runs here: placeholders filled, the server's port, the built
// binary. `missing` names the first placeholder with no value learned yet.
std::string substituted(const std::string& command, const Learned& l, unsigned short port, std::string& missing) {
  std::string out;
  auto from = command.cbegin();
  for (std::sregex_iterator it(command.begin(), command.end(), placeholder_re()), end; it != end; ++it) {
    const auto& m = *it;
    const std::string person = m[3].matched ? m[3].str() : kReader;
    std::string value;
    if (auto p = l.values.find(person); p != l.values.end())
      if (auto v = p->second.find(m[1].str()); v != p->second.end()) value = v->second;
    if (value.empty() && missing.empty()) missing = m.str();
    out.append(from, m[0].first);
    out += value;
    from = m[0].second;
  }
  out.append(from, command.cend());
  auto replace_all = [&](const std::string& what, const std::string& with) {
    for (auto at = out.find(what); at != std::string::npos; at = out.find(what, at + with.size()))
      out.replace(at, what.size(), with);
  };
  replace_all("localhost:8080", "127.0.0.1:" + std::to_string(port));
  replace_all("build/tools/causeway", CAUSEWAY_BINARY);
  return out;
}

// This process's environment without CAUSEWAY_* settings, plus `extra`.
std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "CAUSEWAY_", 9) != 0) env.emplace_back(*e);
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

struct Ran {
  int status = -1;     // the exit status; -1 when killed or timed out
  std::string output;  // stdout and stderr, interleaved
};

// Runs `command` with /bin/sh -c in `dir`, for at most 60 s.
Ran run_sh(const std::string& command, const std::string& dir, std::vector<std::string> env) {
  Ran ran;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ran;
  std::string sh = "/bin/sh", dash_c = "-c", text = command;
  std::vector<char*> argv = {sh.data(), dash_c.data(), text.data(), nullptr};
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = ::fork();  // the child calls only async-signal-safe functions
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fds[0], POLLIN, 0};
    const int ready = left.count() <= 0 ? 0 : ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      ::kill(pid, SIGKILL);
      ran.output += "\n[timed out after 60 s]";
      break;
    }
    const auto n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    ran.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

// The first line of `output` that is a problem+json answer (a "type" and a
// "status" of 400 or more), or "".
std::string problem_in(const std::string& output) {
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (trimmed_left(line).rfind("{", 0) != 0) continue;
    boost::system::error_code ec;
    const json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) continue;
    const auto* type = v.as_object().if_contains("type");
    const auto* status = v.as_object().if_contains("status");
    if (type && type->is_string() && status && status->is_number() && status->to_number<double>() >= 400) return line;
  }
  return {};
}

bool succeeded(const Ran& r) { return r.status == 0 && problem_in(r.output).empty(); }

// Whether the README command reads what the server writes on its own threads:
// the outbox's mail files, a run the dispatcher starts.
bool reads_later_state(const std::string& command) {
  return command.rfind("cat data/mail/", 0) == 0 ||
         (command.find("/v1/runs/") != std::string::npos && command.find("-XPOST") == std::string::npos);
}

// Runs `command`; one that reads later state is retried until it succeeds, for at most 20 s.
Ran run_readme_command(const std::string& readme_command, const std::string& command, const std::string& dir,
                       const std::vector<std::string>& env) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    Ran ran = run_sh(command, dir, env);
    if (succeeded(ran) || !reads_later_state(readme_command) || std::chrono::steady_clock::now() >= deadline)
      return ran;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

TEST_CASE("every command of the README's Try it block runs against a real server and succeeds") {
  const std::string readme = source_dir() + "/README.md";
  const auto commands = commands_of(try_it_lines(readme));
  INFO("README: " << readme);
  REQUIRE(commands.size() >= 30);  // the block was found and read whole

  TempDir dir;  // the README's working folder: `data` is the server's
  const std::string data = dir / "data";
  fs::create_directories(data);
  ServerProcess server(serve_args(data));
  const auto env = child_environment({"CAUSEWAY_SERVER=http://127.0.0.1:" + std::to_string(server.port())});

  Learned learned;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const std::string& readme_command = commands[i];
    std::string missing;
    const std::string command = substituted(readme_command, learned, server.port(), missing);
    INFO("command " << i + 1 << " of " << commands.size() << " in the README:\n" << readme_command);
    INFO("as run:\n" << command);
    REQUIRE_MESSAGE(missing.empty(), "no earlier command printed a value for " << missing);
    REQUIRE_MESSAGE(command.find(kEllipsis) == std::string::npos, "a placeholder is left unfilled");
    const Ran ran = run_readme_command(readme_command, command, dir.str(), env);
    INFO("output:\n" << ran.output);
    REQUIRE(ran.status == 0);
    REQUIRE_MESSAGE(problem_in(ran.output).empty(), "the server answered with a problem");
    learn(learned, person_of(readme_command), ran.output);
  }
}
