// The HTML pages of mailed links (api/link_pages.h): the pure parts here, the
// pages on a real server in tests/api/link_page_http_test.cpp.
#include <doctest/doctest.h>

#include "api/link_pages.h"

using namespace causeway::api;

TEST_CASE("a browser's Accept gets the HTML page; API clients, curl and JSON-first lists get JSON") {
  CHECK(prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
  CHECK(prefers_html("text/html"));
  CHECK(prefers_html("application/json;q=0.5, text/html"));
  CHECK_FALSE(prefers_html(""));
  CHECK_FALSE(prefers_html("*/*"));
  CHECK_FALSE(prefers_html("application/json"));
  CHECK_FALSE(prefers_html("application/json, text/html"));
  CHECK_FALSE(prefers_html("text/html;q=0, */*"));
  CHECK_FALSE(prefers_html("text/html;q=x"));
}

TEST_CASE("every value put in a link page is escaped") {
  CHECK(html_escape(R"(<a href="x">'&'</a>)") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  LinkPage page{"reset-password", "password_reset", false, "<script>alert(1)</script>", "", "\"><b>"};
  const std::string refused = link_form_page(page);
  CHECK(refused.find("<script>") == std::string::npos);
  CHECK(refused.find("&lt;script&gt;") != std::string::npos);
  CHECK(refused.find("<form") == std::string::npos);  // an unusable link gets no form
  page.usable = true;
  const std::string form = link_form_page(page);
  CHECK(form.find("\"><b>") == std::string::npos);
  CHECK(form.find("value=\"&quot;&gt;&lt;b&gt;\"") != std::string::npos);
  CHECK(form.find("name=\"new_password\"") != std::string::npos);
  const std::string result = link_result_page("magic_link", "", 401, boost::json::object{{"detail", "<i>no</i>"}});
  CHECK(result.find("<i>") == std::string::npos);
  CHECK(result.find("That did not work: &lt;i&gt;no&lt;/i&gt;") != std::string::npos);
}

TEST_CASE("a form body is decoded, '+' as a space; a malformed one is refused") {
  std::map<std::string, std::string> form;
  REQUIRE(parse_form("token=cwt_a%2Bb&new_password=two+words&otp=", form));
  CHECK(form["token"] == "cwt_a+b");
  CHECK(form["new_password"] == "two words");
  CHECK(form["otp"].empty());
  std::map<std::string, std::string> bad;
  CHECK_FALSE(parse_form("token=%zz", bad));
}
