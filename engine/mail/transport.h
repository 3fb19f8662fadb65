// Outgoing mail: a message and the transports that deliver it.
//
// FileTransport (the embedded default) writes each message as an RFC 5322
// file `<dir>/<owner>/<id>.eml` (mode 0600, written to a temporary name,
// synced, then renamed), for development and for a local mail pickup; erasing
// a user removes their folder. SmtpTransport sends
// through an SMTP server with libcurl (`smtp://` or `smtps://`, optional
// login, STARTTLS when the server offers it).
//
// send() blocks; the outbox calls it from its own thread. Errors are values:
// Errc::unavailable for what may pass (connection refused, timeouts, 4xx),
// Errc::invalid for what never will (a bad address, a 5xx rejection).
#pragma once

#include <memory>
#include <string>

#include "events/result.h"

namespace causeway::mail {

struct Message {
  std::string id;       // stable per outbox event: the Message-ID is <id@causeway>, so a resend can be deduplicated
  std::string from;     // "Name <address>" or "address"
  std::string to;       // an address
  std::string subject;  // UTF-8
  std::string text;     // UTF-8 plain text
  std::string owner;    // the recipient's user id: the file sink's folder, so erasure can remove their copies
};

// The address inside "Name <address>", or the whole string.
std::string address_of(const std::string& mailbox);
// RFC 5322 text with CRLF line ends: Date (from `date_us`), From, To,
// Subject (RFC 2047 when not ASCII), Message-ID, MIME headers, the body.
// Errc::invalid when a header value holds a line break.
Result<std::string> to_rfc5322(const Message& m, std::int64_t date_us);

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Status send(const Message& m, std::int64_t date_us) = 0;
  // Removes every copy the transport keeps of `owner`'s mail (GDPR erasure).
  // Only the file sink keeps any; mail handed to an SMTP server is beyond reach.
  virtual Status forget(const std::string& owner) = 0;
};

std::unique_ptr<Transport> file_transport(std::string dir);
struct SmtpOptions {
  std::string url;  // smtp://host:port or smtps://host:port
  std::string username, password;
  long connect_timeout_ms = 5000;
  long timeout_ms = 30000;
};
std::unique_ptr<Transport> smtp_transport(SmtpOptions o);

}  // namespace causeway::mail
