#include "api/link_pages.h"

#include <boost/json/serialize.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>
#include <fmt/format.h>

namespace causeway::api {
namespace json = boost::json;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The quality an Accept header gives exactly `type` (0 when not listed).
double quality_of(std::string_view accept, std::string_view type) {
  double best = 0;
  while (!accept.empty()) {
    auto comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    auto semi = range.find(';');
    if (trim(range.substr(0, semi)) != type) continue;
    double q = 1;
    while (semi != std::string_view::npos) {
      range = range.substr(semi + 1);
      semi = range.find(';');
      auto param = trim(range.substr(0, semi));
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        const auto v = std::string(param.substr(2));
        try {
          q = std::stod(v);
        } catch (...) {  // not a number: the range counts as not given
          q = 0;
        }
      }
    }
    best = std::max(best, q);
  }
  return best;
}

std::string page(std::string_view title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"robots\" content=\"noindex\">\n<title>{0} · Causeway</title>\n</head>\n<body>\n"
      "<main>\n<h1>{0}</h1>\n{1}</main>\n</body>\n</html>\n",
      html_escape(title), body);
}

struct Words {
  std::string_view purpose, title, does, button, done;
};

constexpr Words kWords[] = {
    {"verify_email", "Confirm your email address", "This link confirms the email address of your Causeway account.",
     "Confirm my address", "Your email address is confirmed."},
    {"password_reset", "Choose a new password",
     "This link sets a new password for your Causeway account. Every session is signed out.", "Set the new password",
     "Your password is changed and every session was signed out. Sign in with the new password."},
    {"magic_link", "Sign in", "This link signs you in to Causeway once.", "Sign in",
     "You are signed in. Keep these tokens secret: they are shown only once."},
    {"invitation", "An invitation", "This link answers an invitation to join an organization on Causeway.",
     "Decline the invitation", "The invitation is declined."},
};

const Words& words_of(std::string_view purpose) {
  for (const auto& w : kWords)
    if (w.purpose == purpose) return w;
  return kWords[0];
}

std::string field(std::string_view label, std::string_view name, std::string_view type, std::string_view extra) {
  return fmt::format("<p><label>{}<br><input name=\"{}\" type=\"{}\"{}></label></p>\n", html_escape(label), name, type,
                     extra);
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

bool prefers_html(std::string_view accept) {
  const double html = quality_of(accept, "text/html");
  return html > 0 && html > quality_of(accept, "application/json");
}

std::string link_form_page(const LinkPage& link) {
  const Words& w = words_of(link.purpose);
  std::string body = fmt::format("<p>{}</p>\n", html_escape(w.does));
  if (!link.usable) {
    body += fmt::format("<p><strong>This link cannot be used: {}.</strong> Ask for a new one.</p>\n",
                        html_escape(link.reason));
    return page(w.title, body);
  }
  if (!link.expires_at.empty()) body += fmt::format("<p>It works until {}.</p>\n", html_escape(link.expires_at));
  body += fmt::format("<form method=\"post\" action=\"/v1/links/{}\">\n<input type=\"hidden\" name=\"token\" value=\"{}\">\n",
                      html_escape(link.page), html_escape(link.token));
  if (link.purpose == "password_reset")
    body += field("New password", "new_password", "password", " autocomplete=\"new-password\" required");
  if (link.purpose == "password_reset" || link.purpose == "magic_link")
    body += field("Code from your authenticator app (only if two-factor is on)", "otp", "text",
                  " inputmode=\"numeric\" autocomplete=\"one-time-code\"");
  if (link.purpose == "invitation") body += "<input type=\"hidden\" name=\"action\" value=\"decline\">\n";
  body += fmt::format("<p><button type=\"submit\">{}</button></p>\n</form>\n", html_escape(w.button));
  if (link.purpose == "invitation")
    body += "<p>To accept, sign in as the invited address and send this link's token to "
            "<code>POST /v1/invitations/acceptance</code>.</p>\n";
  return page(w.title, body);
}

std::string link_result_page(std::string_view purpose, std::string_view action, int status,
                             const json::value& reply) {
  const Words& w = words_of(purpose);
  std::string body;
  if (status >= 200 && status < 300) {
    body = fmt::format("<p>{}</p>\n", html_escape(action == "already" ? "This address was already confirmed." : w.done));
    if (purpose == "magic_link" && reply.is_object())
      for (const char* k : {"access_token", "refresh_token"})
        if (const auto* v = reply.as_object().if_contains(k); v && v->is_string())
          body += fmt::format("<p>{}: <code>{}</code></p>\n", k, html_escape(v->as_string()));
  } else {
    std::string detail = "the request was refused";
    if (reply.is_object())
      if (const auto* d = reply.as_object().if_contains("detail"); d && d->is_string()) detail = d->as_string();
    body = fmt::format("<p><strong>That did not work: {}.</strong></p>\n", html_escape(detail));
  }
  return page(w.title, body);
}

bool parse_form(std::string_view body, std::map<std::string, std::string>& out) {
  if (!boost::urls::parse_query(body)) return false;
  boost::urls::encoding_opts opt;
  opt.space_as_plus = true;
  for (const auto& p : boost::urls::params_view(body, opt)) out[p.key] = p.value;
  return true;
}

}  // namespace causeway::api
