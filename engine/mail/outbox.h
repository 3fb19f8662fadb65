// Outbox: the mail sender. The outbox is the log itself: the events that ask
// for a mail (below) are its entries, so a mail is asked for in the same
// atomic commit as the state change it belongs to, and nothing is lost when
// the process dies between the two.
//
//   user.signed_up                 -> "Confirm your email address" (when it carries a verification token)
//   user.verification_requested   -> the same, again
//   user.password_reset_requested  -> "Reset your password"
//   user.magic_link_requested      -> "Your sign-in link"
//   run.event_emitted (email.queued) -> a workflow's email action: its to, subject and text
//   organization.member_invited    -> "You are invited to join <org> on Causeway" (to the invited
//                                     address; the copy belongs to the subject "invitation-<id>")
//
// The sender follows every partition of the log (LogFollower) from its
// checkpoint (`<data>/mail-outbox.json`, `{"next": [one position per
// partition]}`; the single-partition form `{"next": N}` of earlier releases
// is read too; absent: the head, so a first start sends no mail for older
// events), renders each mail (the recipient's address and name
// are opened from the user's sealed sign-up event; the link's token is derived
// again, engine/mail/tokens.h), and hands it to the transport, one at a time
// and in log order within a partition. A transient failure is retried with backoff (doubling,
// from `first_retry` up to `max_retry`) up to `max_attempts`; after that, or
// on a permanent failure, the mail is given up, logged (ids only) and counted.
// A token that has expired, or a user who was erased, gets no mail.
//
// Delivery is at least once: the checkpoint moves after a batch that asked
// for mail is handled (batches without mail move it at most once a second:
// after a crash they are read again, which sends nothing), so a crash can
// send a mail again — with the same Message-ID
// (<event id@causeway>), for the receiver to deduplicate. Deliveries are not
// events: the audit trail has the requests; counters and logs have the rest.
//
// Thread safety: start() and stop() from one thread; the counters from any.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "engine/mail/transport.h"
#include "events/clock.h"
#include "events/event_log.h"
#include "events/key_vault.h"
#include "events/log_follower.h"

namespace causeway::mail {

class Outbox {
 public:
  struct Options {
    std::string from = "Causeway <no-reply@causeway.localhost>";
    // Links: <public_url>/v1/links/verify-email?token=... (api/link_routes.cpp
    // answers them until the console serves its own pages).
    std::string public_url = "http://localhost:8080";
    std::string checkpoint_path;                        // "<data>/mail-outbox.json"
    int max_attempts = 5;
    std::chrono::milliseconds first_retry{500};
    std::chrono::milliseconds max_retry{30'000};
    // Whether an invitation is still pending (the organization's state); when
    // unset, every unexpired invitation is mailed.
    // `invited_at_version`: the stream version of the invitation's event.
    std::function<Result<bool>(const std::string& org_id, const std::string& invitation_id,
                               std::uint64_t invited_at_version, std::int64_t now_us)>
        invitation_pending;
    // Told of each mail given up: what happened, the event id, the error
    // (never an address or a token). The server logs it.
    std::function<void(const char* what, const std::string& event_id, const std::string& error)> report;
  };

  Outbox(EventLog& log, KeyVault& vault, const Clock& clock, std::unique_ptr<Transport> transport, Options o);
  ~Outbox();

  void start();
  void stop();

  // Whether events of `type` ask for a mail.
  static bool asks_for_mail(std::string_view type);
  // The mail `e` asks for, rendered; nullopt when none is due (no token, the
  // token expired, the user was erased).
  Result<std::optional<Message>> render(const Event& e);

  // Removes the copies the transport keeps of the user's mail (erasure).
  Status forget(const std::string& user_id) { return transport_->forget(user_id); }

  std::uint64_t sent() const { return sent_.load(); }
  std::uint64_t given_up() const { return given_up_.load(); }
  PositionToken next_position() const { return sub_ ? sub_->next() : from_; }

 private:
  Status handle(std::uint32_t partition, const std::vector<Event>& batch);
  Result<std::optional<Message>> render_invitation(const Event& e);
  Result<std::optional<Message>> render_workflow_email(const Event& e);
  // Sends `m`, retrying; true once it is sent or given up, false when the
  // outbox stops first.
  bool deliver(const Message& m);
  void save_checkpoint(const PositionToken& next);
  std::chrono::steady_clock::time_point saved_at_{};  // the subscription thread's only

  EventLog& log_;
  KeyVault& vault_;
  const Clock& clock_;
  std::unique_ptr<Transport> transport_;
  Options o_;
  PositionToken from_;
  std::unique_ptr<LogFollower> sub_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> sent_{0}, given_up_{0};
};

}  // namespace causeway::mail
