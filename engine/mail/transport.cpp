#include "engine/mail/transport.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>

#include "events/base64.h"

namespace causeway::mail {

std::string address_of(const std::string& mailbox) {
  const auto open = mailbox.rfind('<');
  const auto close = mailbox.rfind('>');
  if (open != std::string::npos && close != std::string::npos && close > open)
    return mailbox.substr(open + 1, close - open - 1);
  return mailbox;
}

namespace {

bool has_line_break(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

bool ascii(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

std::string rfc2822_date(std::int64_t date_us) {
  const std::time_t t = static_cast<std::time_t>(date_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

}  // namespace

Result<std::string> to_rfc5322(const Message& m, std::int64_t date_us) {
  for (const auto* v : {&m.id, &m.from, &m.to, &m.subject})
    if (has_line_break(*v)) return Error::invalid("a mail header holds a line break");
  if (address_of(m.to).find('@') == std::string::npos) return Error::invalid("the recipient is not an address");
  const std::string subject =
      ascii(m.subject) ? m.subject : "=?UTF-8?B?" + base64_encode(m.subject) + "?=";
  std::string out;
  out += "Date: " + rfc2822_date(date_us) + "\r\n";
  out += "From: " + m.from + "\r\n";
  out += "To: " + m.to + "\r\n";
  out += "Subject: " + subject + "\r\n";
  out += "Message-ID: <" + m.id + "@causeway>\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: 8bit\r\n";
  out += "Auto-Submitted: auto-generated\r\n\r\n";
  // CRLF line ends; a line that is a lone "." would end the SMTP DATA early (curl dot-stuffs, a file does not need to).
  for (std::size_t i = 0; i < m.text.size(); ++i) {
    if (m.text[i] == '\r') continue;
    if (m.text[i] == '\n') out += "\r\n";
    else out += m.text[i];
  }
  if (out.size() < 2 || out.substr(out.size() - 2) != "\r\n") out += "\r\n";
  return out;
}

namespace {

class FileTransport final : public Transport {
 public:
  explicit FileTransport(std::string dir) : dir_(std::move(dir)) {}
  Status forget(const std::string& owner) override {
    if (!safe_name(owner)) return Error::invalid("not a mail owner");
    std::lock_guard lk(mu_);
    std::error_code ec;
    std::filesystem::remove_all(dir_ + "/" + owner, ec);
    if (ec) return Error::unavailable("removing a user's mail files failed");
    return ok_status();
  }
  Status send(const Message& m, std::int64_t date_us) override {
    auto text = to_rfc5322(m, date_us);
    if (!text) return std::move(text).error();
    const std::string owner = m.owner.empty() ? "unowned" : m.owner;
    if (!safe_name(owner) || !safe_name(m.id)) return Error::invalid("a mail id or owner is not a plain name");
    std::lock_guard lk(mu_);  // not interleaved with forget()
    const std::string folder = dir_ + "/" + owner;
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec) return Error::unavailable(fmt::format("cannot create the mail folder {}", folder));
    // Mail holds addresses and sign-in links: only the server's user may list or read it.
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, ec);
    std::filesystem::permissions(folder, std::filesystem::perms::owner_all, ec);
    const std::string final_path = folder + "/" + m.id + ".eml";
    const std::string tmp = final_path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Error::unavailable(fmt::format("cannot write a mail file in {}", dir_));
    std::size_t done = 0;
    while (done < text->size()) {
      const ssize_t n = ::write(fd, text->data() + done, text->size() - done);
      if (n <= 0) {
        ::close(fd);
        return Error::unavailable("writing a mail file failed");
      }
      done += static_cast<std::size_t>(n);
    }
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced || ::rename(tmp.c_str(), final_path.c_str()) != 0)
      return Error::unavailable("writing a mail file failed");
    return ok_status();
  }

 private:
  static bool safe_name(const std::string& s) {
    if (s.empty() || s.size() > 128) return false;
    for (char c : s)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    return true;
  }
  std::string dir_;
  std::mutex mu_;
};

// "<address>" for the SMTP envelope.
std::string angle_addr(const std::string& mailbox) {
  std::string out(1, '<');
  out.append(address_of(mailbox));
  out.push_back('>');
  return out;
}

struct Upload {
  const std::string* text;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  const std::size_t left = u->text->size() - u->offset;
  const std::size_t take = std::min(left, size * n);
  std::memcpy(buf, u->text->data() + u->offset, take);
  u->offset += take;
  return take;
}

class SmtpTransport final : public Transport {
 public:
  explicit SmtpTransport(SmtpOptions o) : o_(std::move(o)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }
  Status forget(const std::string&) override { return ok_status(); }
  Status send(const Message& m, std::int64_t date_us) override {
    auto text = to_rfc5322(m, date_us);
    if (!text) return std::move(text).error();
    CURL* c = curl_easy_init();
    if (!c) return Error::unavailable("libcurl could not start");
    const std::string from = angle_addr(m.from);
    const std::string to = angle_addr(m.to);
    curl_slist* rcpt = curl_slist_append(nullptr, to.c_str());
    Upload up{&*text};
    curl_easy_setopt(c, CURLOPT_URL, o_.url.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o_.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o_.timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
    if (!o_.username.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, o_.username.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, o_.password.c_str());
    }
    const CURLcode rc = curl_easy_perform(c);
    long reply = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    if (rc == CURLE_OK) return ok_status();
    // A permanent rejection (5xx) will not pass on a retry; the rest may.
    const std::string why = fmt::format("SMTP delivery failed: {} (reply {})", curl_easy_strerror(rc), reply);
    if (reply >= 500 && reply < 600) return Error::invalid(why);
    return Error::unavailable(why);
  }

 private:
  SmtpOptions o_;
};

}  // namespace

std::unique_ptr<Transport> file_transport(std::string dir) { return std::make_unique<FileTransport>(std::move(dir)); }
std::unique_ptr<Transport> smtp_transport(SmtpOptions o) { return std::make_unique<SmtpTransport>(std::move(o)); }

}  // namespace causeway::mail
