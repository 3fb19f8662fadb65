// Runs the real `causeway` binary as a child process for crash tests.
//
// ServerProcess starts `causeway serve` on port 0, reads its JSON log from a
// pipe and returns once the "serving" line (with the chosen port) appears — no
// sleeps. kill9() sends SIGKILL; the destructor kills and reaps the child.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/paths.h"  // CAUSEWAY_BINARY

namespace causeway::testing {

// The admin token a server generated in its data folder (`<data>/admin.token`).
inline std::string admin_token_of(const std::string& data_dir) {
  std::FILE* f = std::fopen((data_dir + "/admin.token").c_str(), "r");
  if (!f) return {};
  char buf[256] = {};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string t(buf, n);
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

class ServerProcess {
 public:
  // `max_files`, when not 0, is the child's descriptor limit (RLIMIT_NOFILE).
  explicit ServerProcess(std::vector<std::string> args, rlim_t max_files = 0) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      if (max_files) {
        rlimit rl{max_files, max_files};
        ::setrlimit(RLIMIT_NOFILE, &rl);
      }
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    reader_ = std::thread([this, fd = fds[0]] { drain(fd); });
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return port_ != 0 || eof_; });
    if (port_ == 0) throw std::runtime_error("server did not start: " + output_);
  }
  ~ServerProcess() {
    kill9();
    if (reader_.joinable()) reader_.join();
  }
  unsigned short port() const { return port_; }
  void kill9() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }
  // SIGTERM, then wait for a clean exit; returns the exit status.
  int terminate() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string output() {
    std::lock_guard lk(mu_);
    return output_;
  }

 private:
  void drain(int fd) {
    std::string line;
    char buf[4096];
    for (;;) {
      auto n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      std::lock_guard lk(mu_);
      output_.append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = output_.find('\n', scanned_)) != std::string::npos) {
        std::string l = output_.substr(scanned_, nl - scanned_);
        scanned_ = nl + 1;
        if (l.find("\"serving\"") != std::string::npos) {
          auto v = boost::json::parse(l);
          port_ = static_cast<unsigned short>(v.at("port").to_number<int>());
          cv_.notify_all();
        }
      }
    }
    ::close(fd);
    std::lock_guard lk(mu_);
    eof_ = true;
    cv_.notify_all();
  }

  pid_t pid_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;
  std::size_t scanned_ = 0;
  unsigned short port_ = 0;
  bool eof_ = false;
};

// Runs a command to completion and returns (exit status, stdout).
inline std::pair<int, std::string> run_command(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, {}};
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// `causeway serve` on a free loopback port with argon2id at its minimum cost
// (tests check behaviour, not strength), plus `extra` flags.
inline std::vector<std::string> serve_args(const std::string& data_dir, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> a = {CAUSEWAY_BINARY, "serve", "--data-dir", data_dir, "--port", "0",
                                "--password-opslimit", "1", "--password-memlimit", "8192", "--log-level", "info"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace causeway::testing
