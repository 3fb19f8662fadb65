#include "engine/mail/outbox.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "engine/mail/tokens.h"
#include "events/follower_checkpoint.h"
#include "events/codec.h"
#include "events/json_fields.h"

namespace causeway::mail {
namespace json = boost::json;

namespace {

struct Kind {
  const char* purpose;
  const char* path;
  const char* subject;
  const char* intro;
  const char* outro;
};

const Kind* kind_of(std::string_view type) {
  static const Kind verify{"verify_email", "/v1/links/verify-email", "Confirm your email address",
                           "Confirm your email address for Causeway with this link:",
                           "If you did not sign up, ignore this message."};
  static const Kind reset{"password_reset", "/v1/links/reset-password", "Reset your password",
                          "Someone asked to reset the password of your Causeway account. Choose a new one here:",
                          "If it was not you, ignore this message: your password stays as it is."};
  static const Kind magic{"magic_link", "/v1/links/magic-link", "Your sign-in link", "Sign in to Causeway with this link:",
                          "If you did not ask to sign in, ignore this message."};
  if (type == "user.signed_up" || type == "user.verification_requested") return &verify;
  if (type == "user.password_reset_requested") return &reset;
  if (type == "user.magic_link_requested") return &magic;
  return nullptr;
}

Result<json::value> parsed_data(const Event& e) {
  boost::system::error_code ec;
  json::value v = json::parse(e.data, ec);
  if (ec || !v.is_object()) return Error::corruption("an event payload is not a JSON object");
  return v;
}

Result<json::object> open_data(KeyVault& vault, json::value v) {
  if (auto st = vault.open_all(v); !st) return std::move(st).error();
  return std::move(v.as_object());
}

Result<json::object> opened_data(KeyVault& vault, const Event& e) {
  auto v = parsed_data(e);
  if (!v) return std::move(v).error();
  return open_data(vault, std::move(v).value());
}

bool readable(const std::string& s) { return !s.empty() && s.front() != '['; }  // not "[erased]" / "[expired]"

}  // namespace

Outbox::Outbox(EventLog& log, KeyVault& vault, const Clock& clock, std::unique_ptr<Transport> transport, Options o)
    : log_(log), vault_(vault), clock_(clock), transport_(std::move(transport)), o_(std::move(o)) {
  // The checkpoint, else the head: a first start sends nothing for older events.
  from_ = resume_point(log_, o_.checkpoint_path);
}

Outbox::~Outbox() { stop(); }

bool Outbox::asks_for_mail(std::string_view type) {
  return kind_of(type) != nullptr || type == "run.event_emitted" ||  // a workflow's email action: email.queued
         type == "organization.member_invited";
}

Result<std::optional<Message>> Outbox::render_invitation(const Event& e) {
  auto data = opened_data(vault_, e);
  if (!data) return std::move(data).error();
  const std::string email = string_field(*data, "email");
  const std::int64_t expires = int_field(*data, "expires_at_us");
  if (!readable(email) || clock_.now_us() >= expires) return std::optional<Message>();
  const std::string invitation_id = string_field(*data, "invitation_id");
  const std::string org_id = string_field(*data, "org_id");
  if (o_.invitation_pending) {
    auto pending = o_.invitation_pending(org_id, invitation_id, e.stream_version, clock_.now_us());
    if (!pending) return std::move(pending).error();
    if (!*pending) return std::optional<Message>();
  }
  const std::string link =
      o_.public_url + "/v1/links/invitation?token=" + make_account_token(vault_, "invitation", org_id, invitation_id);
  const std::string org = string_field(*data, "org_name");
  Message m;
  m.id = e.id;
  m.from = o_.from;
  m.to = email;
  m.owner = "invitation-" + invitation_id;
  m.subject = fmt::format("You are invited to join {} on Causeway", org);
  m.text = fmt::format(
      "Hello,\n\nYou are invited to join {} on Causeway as {}. Sign in (or sign up) with this address, then "
      "accept or decline here:\n\n{}\n\nThe link works once, until {}.\nIf you did not expect this, ignore "
      "this message.\n",
      org, string_field(*data, "role"), link, rfc3339_us(expires));
  return std::optional<Message>(std::move(m));
}

Result<std::optional<Message>> Outbox::render_workflow_email(const Event& e) {
  // Most emitted events are not mail: their type is not sealed, so look before decrypting anything.
  auto raw = parsed_data(e);
  if (!raw) return std::move(raw).error();
  if (string_field(raw->as_object(), "event_type") != "email.queued") return std::optional<Message>();
  auto data = open_data(vault_, std::move(raw).value());
  if (!data) return std::move(data).error();
  const auto* payload = data->if_contains("payload");
  if (!payload || !payload->is_object()) return std::optional<Message>();  // erased or expired: "[erased]"
  const auto& p = payload->as_object();
  Message m;
  m.id = e.id;
  m.from = o_.from;
  m.to = string_field(p, "to");
  m.subject = string_field(p, "subject");
  m.text = string_field(p, "text");
  // The copy belongs to the run's data subject when it has one, else to its organization.
  m.owner = e.subjects.empty() ? string_field(*data, "org_id") : e.subjects.front();
  return std::optional<Message>(std::move(m));
}

void Outbox::start() {
  save_checkpoint(from_);
  sub_ = std::make_unique<LogFollower>(log_, from_,
                                       [this](std::uint32_t p, const std::vector<Event>& b) { return handle(p, b); });
  sub_->start();
}

void Outbox::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (sub_) {
    sub_->stop();
    save_checkpoint(sub_->next());
    sub_.reset();
  }
}

Result<std::optional<Message>> Outbox::render(const Event& e) {
  if (e.type == "run.event_emitted") return render_workflow_email(e);
  if (e.type == "organization.member_invited") return render_invitation(e);
  const Kind* kind = kind_of(e.type);
  if (!kind) return std::optional<Message>();
  auto data = opened_data(vault_, e);
  if (!data) return std::move(data).error();
  const std::string user_id = string_field(*data, "user_id");
  const bool signup = e.type == "user.signed_up";
  const std::string token_id = string_field(*data, signup ? "verification_token_id" : "token_id");
  const std::int64_t expires = int_field(*data, signup ? "verification_expires_at_us" : "expires_at_us");
  if (token_id.empty() || clock_.now_us() >= expires) return std::optional<Message>();
  json::object account = *data;
  if (!signup) {
    auto first = log_.read_stream(user_id, 1, 1);
    if (!first) return std::move(first).error();
    if (first->empty()) return std::optional<Message>();
    auto opened = opened_data(vault_, first->front());
    if (!opened) return std::move(opened).error();
    account = std::move(opened).value();
  }
  const std::string email = string_field(account, "email");
  const std::string name = string_field(account, "display_name");
  if (!readable(email)) return std::optional<Message>();  // erased or expired: no one to write to
  const std::string link =
      o_.public_url + kind->path + "?token=" + make_account_token(vault_, kind->purpose, user_id, token_id);
  Message m;
  m.id = e.id;
  m.from = o_.from;
  m.to = email;
  m.owner = user_id;
  m.subject = kind->subject;
  m.text = fmt::format("Hello {},\n\n{}\n\n{}\n\nThe link works once, until {}.\n{}\n",
                       readable(name) ? name : std::string("there"), kind->intro, link, rfc3339_us(expires),
                       kind->outro);
  return std::optional<Message>(std::move(m));
}

bool Outbox::deliver(const Message& m) {
  auto wait = o_.first_retry;
  for (int attempt = 1;; ++attempt) {
    auto st = transport_->send(m, clock_.now_us());
    if (st) {
      sent_++;
      return true;
    }
    const bool permanent = st.error().code == Errc::invalid;
    if (permanent || attempt >= o_.max_attempts) {
      given_up_++;
      if (o_.report) o_.report("mail given up", m.id, fmt::format("{} (after {} attempts)", st.error().message, attempt));
      return true;
    }
    std::unique_lock lk(mu_);
    if (cv_.wait_for(lk, wait, [&] { return stopping_; })) return false;
    wait = std::min(wait * 2, o_.max_retry);
  }
}

Status Outbox::handle(std::uint32_t partition, const std::vector<Event>& batch) {
  bool mailed = false;
  for (const auto& e : batch) {
    {
      std::lock_guard lk(mu_);
      if (stopping_) return Error::unavailable("the outbox is stopping");
    }
    if (!asks_for_mail(e.type)) continue;
    mailed = true;
    auto m = render(e);
    if (!m) {
      given_up_++;
      if (o_.report) o_.report("mail not rendered", e.id, m.error().message);
      continue;
    }
    // Stopping in the middle of retries: the checkpoint must not move past
    // this mail, so the next start sends it.
    if (*m && !deliver(**m)) return Error::unavailable("the outbox is stopping");
  }
  const auto now = std::chrono::steady_clock::now();
  if (!batch.empty() && (mailed || now - saved_at_ >= std::chrono::seconds(1))) {
    PositionToken next = sub_->next();  // this batch is not in it until the handler returns
    next.offsets[partition] = batch.back().position + 1;
    save_checkpoint(next);
    saved_at_ = now;
  }
  return ok_status();
}

void Outbox::save_checkpoint(const PositionToken& next) {
  // A checkpoint not saved only means more to re-read (and maybe re-send) after a restart.
  if (!o_.checkpoint_path.empty()) (void)save_follower_checkpoint(o_.checkpoint_path, next);
}

}  // namespace causeway::mail
