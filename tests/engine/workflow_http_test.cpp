// http_call against a real loopback server (support/webhook_receiver.h), the
// egress policy (which destinations it may reach), and the Causeway-Signature
// header.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "engine/workflow/http_call.h"
#include "support/http_client.h"
#include "support/webhook_receiver.h"

using namespace causeway::workflow;
using causeway::testing::WebhookReceiver;
using namespace std::chrono_literals;

namespace {
using Outcome = std::variant<HttpResponse, HttpFailure>;

// co_spawn needs a default-constructible result, so the coroutine is void and
// writes into an optional. Values are named before co_await (GCC 12).
boost::asio::awaitable<void> call_into(HttpRequest request, std::optional<Outcome>* out) {
  auto op = http_call(std::move(request));
  auto result = co_await std::move(op);
  *out = std::move(result);
}

Outcome call(HttpRequest request) {
  boost::asio::io_context io;
  std::optional<Outcome> out;
  auto op = call_into(std::move(request), &out);
  boost::asio::co_spawn(io, std::move(op), boost::asio::detached);
  io.run();
  REQUIRE(out.has_value());
  return std::move(*out);
}

// The receivers listen on loopback, which a strict policy refuses.
std::shared_ptr<const EgressPolicy> loopback_trusted() {
  return std::make_shared<const EgressPolicy>(causeway::CidrList::parse("127.0.0.0/8,::1/128").value());
}

HttpRequest post(std::string url, std::string body = R"({"seats":7})") {
  HttpRequest r;
  r.method = "POST";
  r.url = std::move(url);
  r.body = std::move(body);
  r.timeout = 5s;
  r.egress = loopback_trusted();
  return r;
}

const HttpResponse& response(const Outcome& o) {
  if (auto* f = std::get_if<HttpFailure>(&o)) FAIL("expected a response, got " << f->error_class << ": " << f->message);
  return std::get<HttpResponse>(o);
}

const HttpFailure& failure(const Outcome& o) {
  if (auto* r = std::get_if<HttpResponse>(&o)) FAIL("expected a failure, got status " << r->status);
  return std::get<HttpFailure>(o);
}

std::string header(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return v;
  return {};
}

// A loopback port nothing listens on: bound, read, released.
std::uint16_t closed_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = a.local_endpoint().port();
  a.close();
  return port;
}
}  // namespace

TEST_CASE("an http_call POST reaches the receiver with its body, its headers, Host, User-Agent and Content-Length") {
  WebhookReceiver hook;
  auto req = post(hook.url("/hook?plan=pro"));
  req.headers = {{"X-Plan", "pro"}, {"Idempotency-Key", "run1.hook.1"}};
  const auto out = call(std::move(req));
  CHECK(response(out).status == 200);
  REQUIRE(hook.wait_for(1, 5s));
  const auto got = hook.received().at(0);
  CHECK(got.method == "POST");
  CHECK(got.target == "/hook?plan=pro");
  CHECK(got.body == R"({"seats":7})");
  CHECK(got.headers.at("x-plan") == "pro");
  CHECK(got.headers.at("idempotency-key") == "run1.hook.1");
  CHECK(got.headers.at("host") == "127.0.0.1:" + std::to_string(hook.port()));
  CHECK(got.headers.at("user-agent") == "causeway-workflows/1");
  CHECK(got.headers.at("content-length") == "11");
}

TEST_CASE("an http_call returns the receiver's status, headers and body") {
  WebhookReceiver hook;
  hook.push_reply(201, R"({"id":7})");
  const auto out = call(post(hook.url()));
  const auto& res = response(out);
  CHECK(res.status == 201);
  CHECK(res.body == R"({"id":7})");
  CHECK(header(res, "content-type") == "application/json");
}

TEST_CASE("scripted replies are used in order and the default reply is 200 {\"ok\":true}") {
  WebhookReceiver hook;
  hook.push_reply(503, "busy");
  hook.push_reply(202);
  CHECK(response(call(post(hook.url()))).status == 503);
  CHECK(response(call(post(hook.url()))).status == 202);
  const auto third = call(post(hook.url()));
  CHECK(response(third).status == 200);
  CHECK(response(third).body == R"({"ok":true})");
}

TEST_CASE("a 500 reply is an http_call response, not a failure") {
  WebhookReceiver hook;
  hook.push_reply(500, R"({"error":"boom"})");
  const auto out = call(post(hook.url()));
  CHECK(response(out).status == 500);
  CHECK(response(out).body == R"({"error":"boom"})");
}

TEST_CASE("an http_call to a port nothing listens on is a connection failure") {
  const auto out = call(post("http://127.0.0.1:" + std::to_string(closed_port()) + "/hook"));
  CHECK(failure(out).error_class == "connection");
}

TEST_CASE("an http_call to a receiver that never answers is a timeout failure within the request's timeout") {
  WebhookReceiver hook;
  hook.hang_next(1);
  auto req = post(hook.url());
  req.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  const auto out = call(std::move(req));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(failure(out).error_class == "timeout");
  CHECK(elapsed >= 150ms);
  CHECK(elapsed < 3s);  // a bound on the call, not a sleep
  CHECK(hook.wait_for(1, 5s));
}

TEST_CASE("a response body over 1 MiB is a too_large failure") {
  WebhookReceiver hook;
  hook.push_reply(200, std::string(kMaxResponseBody + 1, 'x'));
  CHECK(failure(call(post(hook.url()))).error_class == "too_large");
}

TEST_CASE("a CR or LF in a header is refused as invalid_request and nothing is sent") {
  WebhookReceiver hook;
  auto bad_value = post(hook.url());
  bad_value.headers = {{"X-Plan", "pro\r\nX-Injected: 1"}};
  CHECK(failure(call(std::move(bad_value))).error_class == "invalid_request");
  auto bad_name = post(hook.url());
  bad_name.headers = {{"X-Plan\nX-Injected", "1"}};
  CHECK(failure(call(std::move(bad_name))).error_class == "invalid_request");
  auto framing = post(hook.url());
  framing.headers = {{"Content-Length", "0"}};
  CHECK(failure(call(std::move(framing))).error_class == "invalid_request");
  // Requests arrive in order: had a refused one been sent, it would be first.
  CHECK(response(call(post(hook.url(), "ok"))).status == 200);
  REQUIRE(hook.wait_for(1, 5s));
  const auto got = hook.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "ok");
}

TEST_CASE("URLs that are not http(s), have no host or carry user info are refused as invalid_url") {
  CHECK(failure(call(post("ftp://127.0.0.1/x"))).error_class == "invalid_url");
  CHECK(failure(call(post("not a url"))).error_class == "invalid_url");
  CHECK(failure(call(post("http:/path-only"))).error_class == "invalid_url");
  CHECK(failure(call(post("http://user:secret@127.0.0.1/x"))).error_class == "invalid_url");
  CHECK(failure(call(post("http://127.0.0.1:70000/x"))).error_class == "invalid_url");
}

TEST_CASE("the webhook receiver serves concurrent http_calls and keep-alive requests on one connection") {
  WebhookReceiver hook;
  boost::asio::io_context io;
  std::vector<std::optional<Outcome>> outs(4);
  for (auto& out : outs) {
    auto op = call_into(post(hook.url()), &out);
    boost::asio::co_spawn(io, std::move(op), boost::asio::detached);
  }
  io.run();
  for (const auto& out : outs) {
    REQUIRE(out.has_value());
    CHECK(response(*out).status == 200);
  }
  causeway::testing::HttpClient client(hook.port(), causeway::testing::HttpClient::Peer::other);
  CHECK(client.post("/a", "1").status == 200);
  CHECK(client.post("/b", "2").status == 200);
  REQUIRE(hook.wait_for(6, 5s));
  CHECK(hook.received().size() == 6);
}

namespace {
HttpRequest keyed(std::string url, std::string key) {
  HttpRequest r = post(std::move(url));
  r.headers = {{"Idempotency-Key", std::move(key)}};
  return r;
}
}  // namespace

TEST_CASE("plain http_calls to one receiver, one after another, share one keep-alive connection") {
  WebhookReceiver hook;
  for (int i = 0; i < 3; ++i) CHECK(response(call(post(hook.url()))).status == 200);
  CHECK(hook.connections() == 1);
  REQUIRE(hook.received().size() == 3);
  for (const auto& r : hook.received()) CHECK(r.headers.count("connection") == 0);
}

TEST_CASE("a connection the receiver closed after answering is not reused: the next call is sent once, anew") {
  WebhookReceiver hook;
  hook.close_after_next(1);
  CHECK(response(call(post(hook.url()))).status == 200);
  REQUIRE(hook.wait_closed(1, 5s));
  // No Idempotency-Key: only the peek before reuse can save this POST.
  CHECK(response(call(post(hook.url()))).status == 200);
  CHECK(hook.received().size() == 2);
  CHECK(hook.connections() == 2);
}

TEST_CASE("a 408 on a reused connection is sent again, once, anew when repeatable; on a new connection it is the answer") {
  WebhookReceiver hook;
  hook.push_reply(408, "{}");
  CHECK(response(call(keyed(hook.url(), "a"))).status == 408);
  CHECK(response(call(keyed(hook.url(), "b"))).status == 200);
  hook.push_reply(408, "{}");
  CHECK(response(call(keyed(hook.url(), "c"))).status == 200);
  const auto got = hook.received();
  REQUIRE(got.size() == 4);
  CHECK(got[2].headers.at("idempotency-key") == "c");
  CHECK(got[3].headers.at("idempotency-key") == "c");
  CHECK(hook.connections() == 2);
}

TEST_CASE("a request with an Idempotency-Key dropped unanswered on a reused connection is sent again, once, anew") {
  WebhookReceiver hook;
  CHECK(response(call(keyed(hook.url(), "first"))).status == 200);
  hook.drop_next(1);
  CHECK(response(call(keyed(hook.url(), "second"))).status == 200);
  const auto got = hook.received();
  REQUIRE(got.size() == 3);
  CHECK(got[1].headers.at("idempotency-key") == "second");
  CHECK(got[2].headers.at("idempotency-key") == "second");
  CHECK(got[1].body == got[2].body);
  CHECK(hook.connections() == 2);
}

TEST_CASE("a POST without an Idempotency-Key dropped on a reused connection is a connection failure, sent once") {
  WebhookReceiver hook;
  CHECK(response(call(post(hook.url()))).status == 200);
  hook.drop_next(1);
  CHECK(failure(call(post(hook.url()))).error_class == "connection");
  CHECK(hook.received().size() == 2);
  // The failed connection is not pooled: the next call connects anew.
  CHECK(response(call(post(hook.url()))).status == 200);
  CHECK(hook.connections() == 2);
}

TEST_CASE("a timed-out exchange is not retried and its connection is not reused") {
  WebhookReceiver hook;
  CHECK(response(call(keyed(hook.url(), "a"))).status == 200);
  hook.hang_next(1);
  HttpRequest slow = keyed(hook.url(), "b");
  slow.timeout = 200ms;
  CHECK(failure(call(std::move(slow))).error_class == "timeout");
  CHECK(hook.received().size() == 2);
  CHECK(response(call(keyed(hook.url(), "c"))).status == 200);
  CHECK(hook.connections() == 2);
}

TEST_CASE("a webhook signature is t=<seconds>,v1=<64 lowercase hex> and verifies against its body") {
  const std::string sig = webhook_signature("whsec_1", 1700000000, R"({"a":1})");
  REQUIRE(sig.rfind("t=1700000000,v1=", 0) == 0);
  const std::string hex = sig.substr(std::string("t=1700000000,v1=").size());
  CHECK(hex.size() == 64);
  CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(verify_webhook_signature("whsec_1", sig, R"({"a":1})", 1700000000, 300));
  CHECK(verify_webhook_signature("whsec_1", "t=1700000000, v1=" + hex, R"({"a":1})", 1700000100, 300));
  CHECK(verify_webhook_signature("whsec_1", "t=1700000000,v1=" + std::string(64, '0') + ",v1=" + hex,
                                 R"({"a":1})", 1700000000, 300));
}

TEST_CASE("a webhook signature is the HMAC-SHA256 of \"<t>.<body>\" (known answer)") {
  // printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_1
  CHECK(webhook_signature("whsec_1", 1700000000, R"({"a":1})") ==
        "t=1700000000,v1=2bacf7b77f8a947e36777d445799846ce8389284516e77b94f239ef893b8def7");
}

TEST_CASE("a webhook signature is rejected for a tampered body, a wrong secret, or a time outside the tolerance") {
  const std::string sig = webhook_signature("whsec_1", 1700000000, "body");
  CHECK_FALSE(verify_webhook_signature("whsec_1", sig, "bodY", 1700000000, 300));
  CHECK_FALSE(verify_webhook_signature("whsec_2", sig, "body", 1700000000, 300));
  CHECK_FALSE(verify_webhook_signature("whsec_1", sig, "body", 1700000301, 300));
  CHECK_FALSE(verify_webhook_signature("whsec_1", sig, "body", 1699999699, 300));
  CHECK(verify_webhook_signature("whsec_1", sig, "body", 1700000300, 300));
  CHECK_FALSE(verify_webhook_signature("whsec_1", sig, "body", 1700000000, -1));
}

TEST_CASE("a malformed or re-timed webhook signature header is rejected") {
  const std::string sig = webhook_signature("whsec_1", 1700000000, "body");
  const std::string v1 = sig.substr(sig.find("v1="));
  CHECK_FALSE(verify_webhook_signature("whsec_1", "", "body", 1700000000, 300));
  CHECK_FALSE(verify_webhook_signature("whsec_1", v1, "body", 1700000000, 300));                      // no t
  CHECK_FALSE(verify_webhook_signature("whsec_1", "t=1700000000", "body", 1700000000, 300));          // no v1
  CHECK_FALSE(verify_webhook_signature("whsec_1", "t=1700000001," + v1, "body", 1700000000, 300));   // t changed
  CHECK_FALSE(verify_webhook_signature("whsec_1", "t=1700000000,t=1," + v1, "body", 1700000000, 300));
  CHECK_FALSE(verify_webhook_signature("whsec_1", "t=17x," + v1, "body", 1700000000, 300));
  CHECK_FALSE(verify_webhook_signature("whsec_1", "t=1700000000,v1=abc", "body", 1700000000, 300));
  CHECK_FALSE(verify_webhook_signature("whsec_1", "t=-9223372036854775808," + v1, "body",
                                       9223372036854775807LL, 9223372036854775807LL));
}

TEST_CASE("special-use addresses are classed by the IANA registries, IPv6 forms by the IPv4 address they carry") {
  const std::vector<std::pair<std::string, std::string>> classed = {
      {"127.0.0.1", "loopback"},        {"127.255.0.9", "loopback"},     {"::1", "loopback"},
      {"10.1.2.3", "private"},          {"172.16.0.1", "private"},       {"172.31.255.255", "private"},
      {"192.168.1.1", "private"},       {"100.64.0.1", "private"},       {"fd00::1", "private"},
      {"169.254.169.254", "link-local"}, {"fe80::1", "link-local"},      {"224.0.0.1", "multicast"},
      {"ff02::1", "multicast"},         {"0.0.0.0", "unspecified"},      {"::", "unspecified"},
      {"255.255.255.255", "broadcast"}, {"240.0.0.1", "reserved"},       {"192.0.2.7", "reserved"},
      {"2001:db8::1", "reserved"},      {"::ffff:127.0.0.1", "loopback"}, {"::ffff:169.254.169.254", "link-local"},
      {"::127.0.0.1", "loopback"},      {"64:ff9b::a00:1", "private"},   {"2002:7f00:1::", "loopback"},
  };
  for (const auto& [text, cls] : classed) {
    CAPTURE(text);
    auto got = special_use_class(boost::asio::ip::make_address(text));
    REQUIRE(got.has_value());
    CHECK(*got == cls);
  }
  for (const std::string& pub : std::vector<std::string>{"93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8",
                                "2002:808:808::"}) {
    CAPTURE(pub);
    CHECK_FALSE(special_use_class(boost::asio::ip::make_address(pub)).has_value());
  }
}

TEST_CASE("a strict egress policy refuses every special-use destination before anything is sent, literal, "
          "resolved or IPv6-wrapped") {
  WebhookReceiver hook;
  const std::string port = std::to_string(hook.port());
  for (const std::string& url : std::vector<std::string>{"http://127.0.0.1:" + port + "/hook", "http://localhost:" + port + "/hook", "http://[::1]:" + port + "/hook",
        "http://[::ffff:127.0.0.1]:" + port + "/hook", "http://0.0.0.0:" + port + "/hook",
        "http://[::]:" + port + "/hook", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x",
        "http://192.168.0.1/x", "http://172.16.5.4/x", "http://[fe80::1]/x", "http://[fd12::1]/x",
        "http://224.0.0.1/x", "https://127.0.0.1:" + port + "/hook",
        // Other spellings of 127.0.0.1 that resolvers accept: decimal, octal, hexadecimal, short forms.
        "http://2130706433:" + port + "/hook", "http://0177.0.0.1:" + port + "/hook",
        "http://0x7f.0.0.1:" + port + "/hook", "http://127.1:" + port + "/hook"}) {
    CAPTURE(url);
    auto request = post(url);
    request.egress = nullptr;  // the default: EgressPolicy::strict()
    const auto outcome = call(std::move(request));
    const auto& f = failure(outcome);
    CHECK(f.error_class == "forbidden_destination");
    CHECK(f.message.find("may not reach") != std::string::npos);
  }
  CHECK(hook.received().empty());
  CHECK(hook.connections() == 0);
  // The operator's trusted list lets a destination through, and only that one.
  auto only_v6 = post("http://127.0.0.1:" + port + "/hook");
  only_v6.egress = std::make_shared<const EgressPolicy>(causeway::CidrList::parse("::1/128").value());
  CHECK(failure(call(std::move(only_v6))).error_class == "forbidden_destination");
  CHECK(response(call(post(hook.url()))).status == 200);
}

TEST_CASE("a redirect to a refused destination is returned to the run, never followed") {
  WebhookReceiver target;  // on 127.0.0.1, which the policy below does not trust
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor redirector(io, {boost::asio::ip::make_address("127.0.0.2"), 0});
  const auto port = redirector.local_endpoint().port();
  std::thread serve([&] {
    auto s = redirector.accept();
    boost::asio::streambuf in;
    boost::asio::read_until(s, in, "\r\n\r\n");
    const std::string reply = "HTTP/1.1 302 Found\r\nLocation: " + target.url() +
                              "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    boost::asio::write(s, boost::asio::buffer(reply));
  });
  auto request = post("http://127.0.0.2:" + std::to_string(port) + "/start");
  request.egress = std::make_shared<const EgressPolicy>(causeway::CidrList::parse("127.0.0.2/32").value());
  const auto out = call(std::move(request));
  serve.join();
  CHECK(response(out).status == 302);
  CHECK(header(response(out), "location") == target.url());
  CHECK(target.connections() == 0);
}
