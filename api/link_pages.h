// The HTML pages a mailed link opens in a browser (link_routes.cpp), until a
// console serves its own. GET shows what the link does and a form; only the
// form's POST spends the link (mail scanners GET links by themselves). The
// POST is translated to the API call the link stands for and its answer is
// rendered as a page. Pure functions; every value put in a page is escaped.
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <string>
#include <string_view>

namespace causeway::api {

struct LinkPage {
  std::string page;        // the path segment after /v1/links/: "verify-email", ...
  std::string purpose;     // the token's: "verify_email", "password_reset", "magic_link", "invitation"
  bool usable = false;
  std::string reason;      // why not, when not usable
  std::string expires_at;  // RFC 3339, when usable
  std::string token;
};

// &, <, >, " and ' as character references.
std::string html_escape(std::string_view text);

// Whether an Accept header asks for HTML before (or instead of) JSON, as a
// browser's does: text/html listed with a higher quality than
// application/json, or JSON not listed at all.
bool prefers_html(std::string_view accept);

// The page GET shows: what the link does and, while it is usable, the form
// that POSTs it back to /v1/links/<page> (with a new-password field for a
// reset and a second-factor field where one may be needed).
std::string link_form_page(const LinkPage& link);

// The page after the form's POST: `status` and `reply` are the API call's
// answer (a 2xx body, or a problem whose "detail" says what went wrong).
std::string link_result_page(std::string_view purpose, std::string_view action, int status,
                             const boost::json::value& reply);

// The fields of an application/x-www-form-urlencoded body ('+' is a space);
// nullopt-like empty map plus false when it is not one.
bool parse_form(std::string_view body, std::map<std::string, std::string>& out);

}  // namespace causeway::api
