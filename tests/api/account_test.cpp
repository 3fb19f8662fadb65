// Account links over HTTP on a real server, read from the outbox's real
// deliveries: the file sink of the embedded default, and SMTP to a real local
// SMTP receiver. Email verification, password reset (sessions revoked, the
// history rule), magic-link sign-in (single use, even when raced), expiry on
// the injected clock, the same answer for unknown addresses, rate limits, and
// bad input.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <sstream>

#include "api/node_fixture.h"
#include "support/eventually.h"
#include "support/mail_files.h"
#include "support/smtp_receiver.h"

using namespace causeway;
using namespace causeway::testing;
namespace json = boost::json;
namespace http = boost::beast::http;

namespace {
const char* kPassword = "a long password";

std::vector<std::string> mails(const NodeFixture& f, std::size_t n) { return mail_files(f.dir.str(), n); }

// The one mail whose subject is `subject`.
std::string mail_with(const NodeFixture& f, std::size_t n, const std::string& subject) {
  for (const auto& m : mails(f, n))
    if (m.find("Subject: " + subject) != std::string::npos) return m;
  return {};
}

HttpResult post(NodeFixture& f, const std::string& path, const std::string& body) { return f.http->post(path, body); }
}  // namespace

TEST_CASE("signing up mails a verification link, and the link verifies the address once") {
  NodeFixture f;
  const std::string user = f.signup("ann@example.com");
  const std::string m = mail_with(f, 1, "Confirm your email address");
  REQUIRE_FALSE(m.empty());
  CHECK(m.find("To: ann@example.com") != std::string::npos);
  CHECK(m.find("Hello Ann,") != std::string::npos);
  // The link names the port the server listens on, and opens a page that says how to use it.
  const std::string base = "http://127.0.0.1:" + std::to_string(f.node->port());
  const std::string page = "/v1/links/verify-email?token=cwt_";
  CHECK(m.find(base + page) != std::string::npos);
  const std::string token = token_in(m);
  const std::string before_read = f.head();
  auto opened = f.http->get("/v1/links/verify-email?token=" + token);
  CAPTURE(opened.body);
  REQUIRE(opened.status == 200);
  CHECK(opened.json().at("usable").as_bool());
  CHECK(str(opened.json().at("use").as_array()[0].at("path")) == "/v1/users/verification");
  CHECK(f.head() == before_read);  // reading the page spends nothing
  problem_of(f.http->get("/v1/links/reset-password?token=" + token), 404);  // not a link of that kind
  problem_of(f.http->get("/v1/links/verify-email?token=cwt_nonsense"), 404);
  auto ok = post(f, "/v1/users/verification", R"({"token":")" + token + R"("})");
  CAPTURE(ok.body);
  REQUIRE(ok.status == 200);
  CHECK(ok.json().at("email_verified").as_bool());
  CHECK(str(ok.json().at("user_id")) == user);
  const std::string head = f.head();
  CHECK(post(f, "/v1/users/verification", R"({"token":")" + token + R"("})").status == 200);  // already: nothing written
  CHECK(f.head() == head);
  // A token altered, or of another purpose, is not a link.
  std::string bad = token;
  bad.back() = bad.back() == 'a' ? 'b' : 'a';
  problem_of(post(f, "/v1/users/verification", R"({"token":")" + bad + R"("})"), 401);
  problem_of(post(f, "/v1/sessions/magic-link", R"({"token":")" + token + R"("})"), 401);
}

TEST_CASE("asking for a link answers 202 for any address, and mails only an account's") {
  NodeFixture f;
  f.signup("bob@example.com");
  mails(f, 1);
  for (const char* path : {"/v1/password-resets", "/v1/magic-links", "/v1/users/verification-requests"}) {
    auto unknown = post(f, path, R"({"email":"nobody@example.com"})");
    CHECK(unknown.status == 202);
    auto known = post(f, path, R"({"email":" Bob@Example.com "})");
    CHECK(known.status == 202);
    CHECK(known.body == unknown.body);
  }
  auto all = mails(f, 4);
  CHECK(all.size() == 4);  // the sign-up's and three asked for
  for (const auto& m : all) CHECK(m.find("To: bob@example.com") != std::string::npos);
}

TEST_CASE("a password reset link sets a new password once, revokes every session, and keeps the history rule") {
  NodeFixture f;
  const std::string user = f.signup("cy@example.com");
  auto login = post(f, "/v1/sessions", R"({"email":"cy@example.com","password":")" + std::string(kPassword) + R"("})");
  REQUIRE(login.status == 201);
  const std::string access = str(login.json().at("access_token"));
  REQUIRE(post(f, "/v1/password-resets", R"({"email":"cy@example.com"})").status == 202);
  const std::string token = token_in(mail_with(f, 2, "Reset your password"));
  REQUIRE_FALSE(token.empty());
  const std::string confirm = "/v1/password-resets/confirmation";
  CHECK(pointer_of(problem_of(post(f, confirm, R"({"token":")" + token + R"(","new_password":"short"})"), 422)) ==
        "/new_password");
  CHECK(pointer_of(problem_of(post(f, confirm, R"({"token":")" + token + R"(","new_password":")" + kPassword + R"("})"),
                              422)) == "/new_password");  // history: the current one
  auto ok = post(f, confirm, R"({"token":")" + token + R"(","new_password":"an entirely new passphrase"})");
  CAPTURE(ok.body);
  REQUIRE(ok.status == 200);
  CHECK(ok.json().at("revoked_sessions").as_array().size() == 1);
  problem_of(f.http->get("/v1/sessions", {{"Authorization", "Bearer " + access}}), 401);
  problem_of(post(f, confirm, R"({"token":")" + token + R"(","new_password":"yet another passphrase"})"), 401);
  problem_of(post(f, "/v1/sessions", R"({"email":"cy@example.com","password":")" + std::string(kPassword) + R"("})"),
             401);
  CHECK(post(f, "/v1/sessions", R"({"email":"cy@example.com","password":"an entirely new passphrase"})").status == 201);
}

TEST_CASE("a link expires on the injected clock: a reset link after an hour is refused") {
  ManualClock clock(1'790'000'000'000'000);
  NodeFixture f([](ServerConfig&) {}, &clock);
  f.signup("di@example.com");
  REQUIRE(post(f, "/v1/password-resets", R"({"email":"di@example.com"})").status == 202);
  const std::string token = token_in(mail_with(f, 2, "Reset your password"));
  REQUIRE_FALSE(token.empty());
  clock.advance_us(60LL * 60 * 1'000'000);
  auto late = problem_of(
      post(f, "/v1/password-resets/confirmation", R"({"token":")" + token + R"(","new_password":"fresh passphrase 1"})"),
      401);
  CHECK(str(late.at("detail")).find("expired") != std::string::npos);
}

TEST_CASE("a magic link signs in once: raced twice, exactly one session starts") {
  NodeFixture f;
  const std::string user = f.signup("ed@example.com");
  REQUIRE(post(f, "/v1/magic-links", R"({"email":"ed@example.com"})").status == 202);
  const std::string token = token_in(mail_with(f, 2, "Your sign-in link"));
  REQUIRE_FALSE(token.empty());
  std::vector<std::future<HttpResult>> tries;
  for (int i = 0; i < 4; ++i)
    tries.push_back(std::async(std::launch::async, [&] {
      HttpClient c(f.node->port());
      return c.post("/v1/sessions/magic-link", R"({"token":")" + token + R"("})");
    }));
  int started = 0, refused = 0;
  std::string access;
  for (auto& t : tries) {
    auto r = t.get();
    if (r.status == 201) {
      ++started;
      access = str(r.json().at("access_token"));
    } else if (r.status == 401) {
      ++refused;
    }
  }
  CHECK(started == 1);
  CHECK(refused == 3);
  auto sessions = f.http->get("/v1/sessions", {{"Authorization", "Bearer " + access}});
  REQUIRE(sessions.status == 200);
  problem_of(f.http->post("/v1/sessions/magic-link", R"({"token":")" + token + R"("})", {{"Idempotency-Key", "k"}}),
             400);
}

TEST_CASE("a password reset or change ends every older reset and sign-in link of the user") {
  const std::string email = "fay@example.com";
  const std::string confirm = "/v1/password-resets/confirmation";
  enum class Change { newer_reset_link, password_route };
  for (const Change how : {Change::newer_reset_link, Change::password_route}) {
    CAPTURE(static_cast<int>(how));
    NodeFixture f;
    f.signup(email);
    REQUIRE(post(f, "/v1/password-resets", R"({"email":")" + email + R"("})").status == 202);
    const std::string old_reset = token_in(mail_with(f, 2, "Reset your password"));
    REQUIRE(post(f, "/v1/magic-links", R"({"email":")" + email + R"("})").status == 202);
    const std::string old_magic = token_in(mail_with(f, 3, "Your sign-in link"));
    REQUIRE_FALSE(old_reset.empty());
    REQUIRE_FALSE(old_magic.empty());
    if (how == Change::newer_reset_link) {
      REQUIRE(post(f, "/v1/password-resets", R"({"email":")" + email + R"("})").status == 202);
      std::string newer;
      for (const auto& m : mails(f, 4))
        if (m.find("Subject: Reset your password") != std::string::npos && token_in(m) != old_reset) newer = token_in(m);
      REQUIRE_FALSE(newer.empty());
      REQUIRE(post(f, confirm, R"({"token":")" + newer + R"(","new_password":"the newest passphrase"})").status == 200);
    } else {
      REQUIRE(post(f, "/v1/users/password", R"({"email":")" + email + R"(","current_password":")" +
                                                std::string(kPassword) + R"(","new_password":"the newest passphrase"})")
                  .status == 200);
    }
    // The rule lives in the user's events: it holds after a restart too.
    for (const bool restarted : {false, true}) {
      CAPTURE(restarted);
      if (restarted) f.restart();
      const auto before = f.head();
      auto page = f.http->get("/v1/links/reset-password?token=" + old_reset);
      REQUIRE(page.status == 200);
      CHECK_FALSE(page.json().at("usable").as_bool());
      auto reset = problem_of(
          post(f, confirm, R"({"token":")" + old_reset + R"(","new_password":"an attacker's pick"})"), 401);
      CHECK(str(reset.at("detail")).find("password change") != std::string::npos);
      auto magic = problem_of(post(f, "/v1/sessions/magic-link", R"({"token":")" + old_magic + R"("})"), 401);
      CHECK(str(magic.at("detail")).find("password change") != std::string::npos);
      CHECK(f.head() == before);  // refused: nothing written
    }
    CHECK(post(f, "/v1/sessions", R"({"email":")" + email + R"(","password":"the newest passphrase"})").status == 201);
    // A link issued after the change works.
    REQUIRE(post(f, "/v1/magic-links", R"({"email":")" + email + R"("})").status == 202);
    std::string fresh;
    eventually(
        [&] {
          for (const auto& m : mail_files(f.dir.str(), 0))
            if (m.find("Subject: Your sign-in link") != std::string::npos && token_in(m) != old_magic)
              fresh = token_in(m);
          return !fresh.empty();
        },
        std::chrono::seconds(20), "the new sign-in link is mailed");
    CHECK(post(f, "/v1/sessions/magic-link", R"({"token":")" + fresh + R"("})").status == 201);
  }
}

TEST_CASE("links for one address are limited per hour: the sixth is 429 with Retry-After, known or not") {
  NodeFixture f;
  f.signup("fay@example.com");
  for (const char* email : {"fay@example.com", "ghost@example.com"}) {
    for (int i = 0; i < 5; ++i) CHECK(post(f, "/v1/magic-links", R"({"email":")" + std::string(email) + R"("})").status == 202);
    auto r = post(f, "/v1/magic-links", R"({"email":")" + std::string(email) + R"("})");
    problem_of(r, 429);
    CHECK_FALSE(r.header("retry-after").empty());
  }
  // Another purpose has its own count.
  CHECK(post(f, "/v1/password-resets", R"({"email":"fay@example.com"})").status == 202);
}

TEST_CASE("bad bodies on the link routes are 422 with a pointer and write nothing") {
  NodeFixture f;
  const std::string head = f.head();
  CHECK(pointer_of(problem_of(post(f, "/v1/magic-links", R"({"email":"a@b.c","extra":1})"), 422)) == "/extra");
  CHECK(pointer_of(problem_of(post(f, "/v1/magic-links", R"({"email":7})"), 422)) == "/email");
  CHECK(pointer_of(problem_of(post(f, "/v1/magic-links", R"({})"), 422)) == "/email");
  CHECK(pointer_of(problem_of(post(f, "/v1/password-resets/confirmation", R"({"token":"x"})"), 422)) ==
        "/new_password");
  CHECK(pointer_of(problem_of(post(f, "/v1/users/verification", R"([1])"), 422)) == "");
  problem_of(post(f, "/v1/users/verification", R"({"token":"x")"), 400);
  problem_of(f.http->get("/v1/magic-links"), 405);
  problem_of(post(f, "/v1/password-resets/other", R"({"token":"x"})"), 404);
  CHECK(f.head() == head);
}

TEST_CASE("with SMTP configured, the verification mail reaches a real SMTP receiver") {
  SmtpReceiver receiver;
  NodeFixture f([&](ServerConfig& cfg) {
    cfg.smtp_url = receiver.url();
    cfg.public_url = "https://app.example.com";
  });
  f.signup("gil@example.com");
  auto got = receiver.wait_for(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].find("Subject: Confirm your email address") != std::string::npos);
  CHECK(got[0].find("https://app.example.com/v1/links/verify-email?token=cwt_") != std::string::npos);
  const std::string token = token_in(got[0]);
  CHECK(f.http->post("/v1/users/verification", R"({"token":")" + token + R"("})").status == 200);
  CHECK_FALSE(std::filesystem::exists(f.dir.str() + "/mail"));
}

namespace {
// A node on `data_dir` (node_fixture.h) whose mail goes to `smtp_url`, else
// to the file sink in the data folder.
std::unique_ptr<Node> open_mail_node(const TempDir& data, const std::string& smtp_url = {}) {
  return causeway::testing::open_node(data, [&smtp_url](ServerConfig& cfg) { cfg.smtp_url = smtp_url; });
}}  // namespace

TEST_CASE("the outbox resumes from its checkpoint: a restart sends no mail twice") {
  TempDir data;
  // Every delivered mail by its file name: the file sink writes <data>/mail/<owner>/<event id>.eml, one
  // file per Message-ID (<event id@causeway>), written again when the same mail is sent again.
  auto delivered = [&] {
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(data.str() + "/mail", ec)) {
      if (e.path().extension() != ".eml") continue;
      std::ifstream in(e.path());
      std::stringstream ss;
      ss << in.rdbuf();
      out[e.path().stem().string()] = ss.str();
    }
    return out;
  };
  // The event id of the delivered mail to `email`, or "".
  auto mail_to = [&](const std::string& email) {
    for (const auto& [id, text] : delivered())
      if (text.find("To: " + email + "\r\n") != std::string::npos) return id;
    return std::string();
  };
  std::string hal_mail;
  {
    auto node = open_mail_node(data);
    HttpClient c(node->port());
    REQUIRE(c.post("/v1/users", R"({"email":"hal@example.com","display_name":"Hal","password":"a long password"})")
                .status == 201);
    eventually([&] { return !(hal_mail = mail_to("hal@example.com")).empty(); }, std::chrono::seconds(20),
               "Hal's verification mail");
    node->stop();
    REQUIRE(delivered().size() == 1);
    REQUIRE(node->outbox().sent() == 1);
  }
  // Start again from an empty mail folder: a second delivery of Hal's mail would write its file anew.
  std::filesystem::remove_all(data.str() + "/mail");
  auto node = open_mail_node(data);
  HttpClient c(node->port());
  REQUIRE(c.post("/v1/users", R"({"email":"ida@example.com","display_name":"Ida","password":"a long password"})")
              .status == 201);
  // The outbox delivers one mail at a time, in log order, and Ida's sign-up is after Hal's in the log: once
  // her mail is there, the restarted outbox is past Hal's event: a resend of his mail would be there too.
  eventually([&] { return !mail_to("ida@example.com").empty(); }, std::chrono::seconds(20),
             "Ida's verification mail after the restart");
  node->stop();
  const auto after = delivered();
  CHECK(after.count(hal_mail) == 0);  // Hal's mail (its Message-ID) was not sent again
  CHECK(after.size() == 1);           // Ida's only
  CHECK(node->outbox().sent() == 1);  // the restarted outbox delivered one mail: no resend, not even one overwriting
}

namespace {
// A TCP port that accepts connections and closes them at once: an SMTP
// server that is down in the middle of a conversation (a retryable failure).
class ClosingListener {
 public:
  ClosingListener() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] {
      for (;;) {
        boost::system::error_code ec;
        boost::asio::ip::tcp::socket s(io_);
        acceptor_.accept(s, ec);
        if (stop_) return;
        if (!ec) {
          std::lock_guard lk(mu_);
          ++accepted_;
          cv_.notify_all();
        }
      }
    });
  }
  ~ClosingListener() {
    stop_ = true;
    boost::asio::ip::tcp::socket wake(io_);
    boost::system::error_code ec;
    wake.connect(acceptor_.local_endpoint(), ec);  // unblocks accept()
    thread_.join();
  }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  bool wait_accepted(std::size_t n) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(20), [&] { return accepted_ >= n; });
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t accepted_ = 0;
  std::thread thread_;
};
}  // namespace

TEST_CASE("a mail whose retries a stop cuts short is sent at the next start") {
  TempDir data;
  ClosingListener down;
  {
    auto node = open_mail_node(data, down.url());
    HttpClient c(node->port());
    REQUIRE(c.post("/v1/users", R"({"email":"jo@example.com","display_name":"Jo","password":"a long password"})")
                .status == 201);
    REQUIRE(down.wait_accepted(1));  // the first attempt failed; the outbox waits to retry
    node->stop();
  }
  // Started again with the file sink: the mail the stop interrupted goes out now.
  auto node = open_mail_node(data);
  const std::string token = token_of_mail(data.str(), "jo@example.com", "Confirm your email address");
  CHECK_FALSE(token.empty());
  node->stop();
}

TEST_CASE("a referral code resolves to its user: a signup with it records the referrer, an unknown one is 422") {
  NodeFixture f;
  f.signup("ref@example.com");
  auto login = f.http->post("/v1/sessions", R"({"email":"ref@example.com","password":"a long password"})");
  REQUIRE(login.status == 201);
  const std::string access = str(login.json().at("access_token"));
  auto me = f.http->get("/v1/me/referral", {{"Authorization", "Bearer " + access}});
  REQUIRE(me.status == 200);
  const std::string code = str(me.json().at("referral_code"));
  CHECK(me.json().at("active").as_bool());
  CHECK(code.rfind("ref_", 0) == 0);
  CHECK(str(f.http->get("/v1/me/referral", {{"Authorization", "Bearer " + access}}).json().at("referral_code")) == code);
  auto referred = f.http->post("/v1/users", R"({"email":"new@example.com","display_name":"New","password":"a long password",
                                               "referral_code":")" + code + R"("})");
  REQUIRE(referred.status == 201);
  const std::string new_user = str(referred.json().at("user_id"));
  auto events = f.http->get("/v1/admin/streams/" + new_user + "/events",
                            {{"Authorization", "Bearer " + f.node->admin_token()}});
  REQUIRE(events.status == 200);
  CHECK(events.body.find(R"("referred_by":")" + str(login.json().at("user_id"))) != std::string::npos);
  CHECK(pointer_of(problem_of(f.http->post("/v1/users", R"({"email":"x@example.com","display_name":"X",
      "password":"a long password","referral_code":"ref_000000000000"})"), 422)) == "/referral_code");
  problem_of(f.http->get("/v1/me/referral"), 401);
}

TEST_CASE("creating an organization takes the operator or a session, whose user becomes its owner") {
  NodeFixture f;
  const std::string ann = f.signup("owner-ann@example.com");
  const std::string bob = f.signup("owner-bob@example.com");
  const std::string head = f.head();
  problem_of(f.http->post("/v1/organizations", R"({"slug":"anon","name":"A","owner_user_id":")" + ann + R"("})"), 401);
  CHECK(f.head() == head);
  auto login = f.http->post("/v1/sessions", R"({"email":"owner-ann@example.com","password":"a long password"})");
  REQUIRE(login.status == 201);
  const std::map<std::string, std::string> as_ann{{"Authorization", "Bearer " + str(login.json().at("access_token"))}};
  // A session creates organizations its own user owns, never someone else's.
  CHECK(pointer_of(problem_of(f.http->post("/v1/organizations",
                                           R"({"slug":"theirs","name":"B","owner_user_id":")" + bob + R"("})", as_ann),
                              422)) == "/owner_user_id");
  auto mine = f.http->post("/v1/organizations", R"({"slug":"mine","name":"Mine"})", as_ann);
  CAPTURE(mine.body);
  REQUIRE(mine.status == 201);
  auto org = f.http->get("/v1/admin/streams/" + str(mine.json().at("org_id")) + "/events",
                         {{"Authorization", "Bearer " + f.node->admin_token()}});
  CHECK(org.body.find(R"("owner_user_id":")" + ann + "\"") != std::string::npos);
}
