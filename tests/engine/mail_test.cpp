// Account tokens, RFC 5322 rendering, and the transports: the file sink and
// SMTP through libcurl to a real local SMTP receiver (python3-aiosmtpd).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/mail/outbox.h"
#include "engine/mail/tokens.h"
#include "engine/mail/transport.h"
#include "events/follower_checkpoint.h"
#include "support/mem_key_store.h"
#include "support/paths.h"
#include "support/smtp_receiver.h"
#include "support/temp_dir.h"

using namespace causeway;
using namespace causeway::testing;

namespace {
KeyVault vault_with(unsigned char b) {
  SecretKey k;
  k.fill(b);
  return KeyVault(std::make_shared<MemKeyStore>(), k);
}
const std::string kUser = "user-0123456789abcdef0123456789abcdef";
const std::string kTokenId = "fedcba9876543210fedcba9876543210";

mail::Message message(const std::string& subject = "Confirm your email address") {
  return {"0190c3e3a1b24c5d8e9f0a1b2c3d4e5f", "Causeway <no-reply@causeway.test>", "ann@example.com", subject,
          "Hello Ann,\n\nhttps://app.example/verify-email?token=abc\n", kUser};
}
}  // namespace

TEST_CASE("an account token names its user and id, and passes only for its purpose and server key") {
  auto vault = vault_with(1);
  const std::string t = mail::make_account_token(vault, "password_reset", kUser, kTokenId);
  CHECK(t.size() == 4 + 32 + 1 + 32 + 1 + 64);
  auto ok = mail::check_account_token(vault, "password_reset", t);
  REQUIRE(ok.ok());
  CHECK(ok->user_id == kUser);
  CHECK(ok->token_id == kTokenId);
  CHECK(mail::check_account_token(vault, "magic_link", t).error().code == Errc::unauthorized);
  auto other_server = vault_with(2);
  CHECK_FALSE(mail::check_account_token(other_server, "password_reset", t).ok());
  std::string tampered = t;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  CHECK_FALSE(mail::check_account_token(vault, "password_reset", tampered).ok());
  std::string other_id = t;
  other_id[40] = other_id[40] == '0' ? '1' : '0';
  CHECK_FALSE(mail::check_account_token(vault, "password_reset", other_id).ok());
  CHECK_FALSE(mail::check_account_token(vault, "password_reset", "cwt_short").ok());
  CHECK_FALSE(mail::check_account_token(vault, "password_reset", t.substr(0, t.size() - 1) + "G").ok());
}

TEST_CASE("a message renders as RFC 5322 with CRLF, a stable Message-ID and an encoded non-ASCII subject") {
  auto text = mail::to_rfc5322(message(), 1'790'000'000'000'000);
  REQUIRE(text.ok());
  CHECK(text->find("Date: Mon, 21 Sep 2026 14:13:20 +0000\r\n") != std::string::npos);
  CHECK(text->find("Message-ID: <0190c3e3a1b24c5d8e9f0a1b2c3d4e5f@causeway>\r\n") != std::string::npos);
  CHECK(text->find("To: ann@example.com\r\n") != std::string::npos);
  CHECK(text->find("\r\n\r\nHello Ann,\r\n\r\nhttps://") != std::string::npos);
  CHECK(text->find("\n\n") == std::string::npos);
  auto utf8 = mail::to_rfc5322(message("Bestätigen"), 0);
  REQUIRE(utf8.ok());
  CHECK(utf8->find("Subject: =?UTF-8?B?") != std::string::npos);
  CHECK(mail::address_of("Causeway <no-reply@causeway.test>") == "no-reply@causeway.test");
}

TEST_CASE("a header with a line break or a recipient that is no address is refused, never sent") {
  auto injected = message("Hi\r\nBcc: everyone@example.com");
  CHECK(mail::to_rfc5322(injected, 0).error().code == Errc::invalid);
  auto to = message();
  to.to = "nobody";
  CHECK(mail::to_rfc5322(to, 0).error().code == Errc::invalid);
  TempDir dir;
  auto sink = mail::file_transport(dir.str());
  CHECK(sink->send(injected, 0).error().code == Errc::invalid);
  CHECK(std::filesystem::is_empty(dir.str()));
}

TEST_CASE("the file sink writes one private .eml per message in its owner's folder, and forgets the owner's") {
  TempDir dir;
  auto sink = mail::file_transport(dir.str() + "/mail");
  REQUIRE(sink->send(message(), 1'790'000'000'000'000).ok());
  const std::string path = dir.str() + "/mail/" + kUser + "/0190c3e3a1b24c5d8e9f0a1b2c3d4e5f.eml";
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == *mail::to_rfc5322(message(), 1'790'000'000'000'000));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  REQUIRE(sink->forget(kUser).ok());
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(sink->forget("../etc").error().code == Errc::invalid);
}

TEST_CASE("SMTP through libcurl delivers to a real SMTP receiver, and a closed port is a retryable failure") {
  SmtpReceiver receiver;
  auto smtp = mail::smtp_transport({receiver.url(), "", "", 2000, 10000});
  REQUIRE(smtp->send(message(), 1'790'000'000'000'000).ok());
  auto got = receiver.wait_for(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].find("Subject: Confirm your email address") != std::string::npos);
  CHECK(got[0].find("https://app.example/verify-email?token=abc") != std::string::npos);
  CHECK(got[0].find("Message-ID: <0190c3e3a1b24c5d8e9f0a1b2c3d4e5f@causeway>") != std::string::npos);

  const std::string closed = "smtp://127.0.0.1:" + std::to_string(receiver.port() == 1 ? 2 : 1);
  auto nowhere = mail::smtp_transport({closed, "", "", 2000, 5000});
  auto st = nowhere->send(message(), 0);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == Errc::unavailable);
}

TEST_CASE("a follower's checkpoint (the outbox's, the dispatcher's) holds a position per partition, reads the "
          "single-partition form of earlier releases, and refuses one of another partition count") {
  // The form written before partitions, frozen as written by that release.
  std::ifstream in(fixtures_dir() + "/mail-outbox-single.json");
  std::string single((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(single == R"({"next":7})");
  auto one = parse_follower_checkpoint(single, 1);
  REQUIRE(one.has_value());
  CHECK(one->offsets == std::vector<std::uint64_t>{7});
  CHECK_FALSE(parse_follower_checkpoint(single, 3).has_value());  // a single position cannot say where three resume
  auto three = parse_follower_checkpoint(R"({"next":[4,1,9]})", 3);
  REQUIRE(three.has_value());
  CHECK(three->offsets == std::vector<std::uint64_t>{4, 1, 9});
  CHECK_FALSE(parse_follower_checkpoint(R"({"next":[4,1]})", 3).has_value());
  CHECK_FALSE(parse_follower_checkpoint(R"({"next":[4,0,9]})", 3).has_value());
  CHECK_FALSE(parse_follower_checkpoint("not json", 1).has_value());
  // What is saved reads back.
  TempDir dir;
  const std::string path = dir.str() + "/follower.json";
  REQUIRE(save_follower_checkpoint(path, PositionToken{{4, 1, 9}}).ok());
  std::ifstream saved(path);
  std::string text((std::istreambuf_iterator<char>(saved)), std::istreambuf_iterator<char>());
  CHECK(parse_follower_checkpoint(text, 3) == three);
  CHECK_FALSE(save_follower_checkpoint(dir.str() + "/missing/follower.json", PositionToken{{1}}).ok());
}
