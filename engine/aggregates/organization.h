// The organization aggregate (stream "org-<id>"): creation, rename and
// membership. Pure functions only.
//
// Membership lives in the organization's own stream, so the rules that span
// members are decided against one state under one expected version: an
// organization has exactly one owner at every position of the log (the owner
// changes only by a transfer, and is never removed or demoted), and two
// concurrent invitations cannot both take the last seat.
//
// Roles: owner, admin, member, analyst, compliance_officer (valid_role).
//
// Invitations go to an email address, which may have no account yet. The
// address is personal data of the invitee, sealed under the invitation's own
// data subject ("invitation-<32 hex>"), so erasing it needs no account. The
// state keeps only the address's blind index (the same keyed hash as the
// "email:" reservation of sign-up), which is what acceptance compares: an
// invitation is accepted by the signed-in user whose account has that
// address and has verified it, so a forwarded link is no use to anyone else
// (not even to someone who signs up with the address but cannot read its mail). The invitation mail
// carries a token (engine/mail/tokens.h, purpose "invitation") whose secret
// part is stored nowhere. A pending invitation holds a seat until it is
// accepted, declined, revoked or expires.
//
// Events (tenant: the organization):
//   organization.created              {org_id, slug, name, owner_user_id}          subjects [owner]
//   organization.renamed              {org_id, name, previous_name}
//   organization.member_invited       {org_id, org_name, invitation_id, email, email_index, role,
//                                      expires_at_us, invited_by}                  subjects [invitation-<id>]
//   organization.invitation_accepted  {org_id, invitation_id, user_id, role}       subjects [user]
//   organization.invitation_declined  {org_id, invitation_id}
//   organization.invitation_revoked   {org_id, invitation_id}
//   organization.member_role_changed  {org_id, user_id, role, previous_role}       subjects [user]
//   organization.member_removed       {org_id, user_id, role, reason: removed|left} subjects [user]
//   organization.ownership_transferred {org_id, from_user_id, to_user_id}          subjects [to, from]
//   organization.webhook_secret_rotated {org_id, generation, previous_valid_until_us,
//                                      reason: requested|member_removed|member_left|role_changed}
//
// The webhook signing secret (the HTTP actions' Causeway-Signature) has a
// generation; each generation's secret is derived from the master key
// (workflow::Executor::webhook_secrets), so none is stored. A rotation starts
// the next generation; until `previous_valid_until_us` requests are signed
// with both, so receivers can switch without dropping any. Owners and admins
// can read the secret: when one of them leaves or is removed, or an admin is
// given a lesser role, the same decision rotates it (with the default grace;
// rotate again with no grace to end the old secret at once).
#pragma once

#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cstdint>
#include <map>
#include <string>

#include "engine/decision.h"
#include "events/result.h"

namespace causeway::organization {

// Roles a member or an API key can hold.
bool valid_role(const std::string& role);

struct Member {
  std::string role;
  std::int64_t joined_at_us = 0;
  template <class Ar>
  void serialize(Ar& ar) { ar(role, joined_at_us); }
};

struct Invitation {
  std::string email_index;  // blind index of the invited address
  std::string role;
  std::int64_t expires_at_us = 0;
  std::string invited_by;  // the actor id that invited
  template <class Ar>
  void serialize(Ar& ar) { ar(email_index, role, expires_at_us, invited_by); }
};

struct State {
  bool exists = false;
  std::string slug;
  std::string name;
  std::string owner_user_id;
  std::map<std::string, Member> members;          // by user id; the owner included
  std::map<std::string, Invitation> invitations;  // pending ones, by invitation id (32 hex)
  std::uint32_t webhook_generation = 0;            // of the webhook signing secret
  std::int64_t previous_secret_until_us = 0;       // the previous generation still signs until then
  template <class Ar>
  void serialize(Ar& ar) {
    ar(exists, slug, name, owner_user_id, members, invitations, webhook_generation, previous_secret_until_us);
  }
};
inline constexpr std::uint32_t kStateFormat = 3;  // 2: members and invitations, 3: webhook secret generation

// How long a rotated-out webhook secret still signs, unless the rotation says otherwise.
inline constexpr std::int64_t kWebhookSecretGraceUs = 24LL * 3600 * 1'000'000;
inline constexpr std::int64_t kWebhookSecretMaxGraceUs = 7LL * 24 * 3600 * 1'000'000;

// How long an invitation link works.
inline constexpr std::int64_t kInvitationTtlUs = 7LL * 86'400 * 1'000'000;

// Seats taken at `now_us`: the members and the pending, unexpired invitations.
std::int64_t seats_taken(const State& s, std::int64_t now_us);
// Whether invitation `id` is pending at `now_us`: neither ended nor expired.
bool is_pending(const State& s, const std::string& invitation_id, std::int64_t now_us);
// The member's role, or "" when `user_id` is not a member.
std::string role_of(const State& s, const std::string& user_id);

struct Create {
  std::string org_id;  // "org-<32 hex>", chosen by the caller
  std::string slug;
  std::string name;
  std::string owner_user_id;
  bool owner_exists = false;  // looked up by the caller before deciding
};

struct Rename {
  std::string name;
};

struct Invite {
  std::string invitation_id;  // 32 hex, chosen by the caller
  std::string email;          // normalized
  std::string email_index;
  std::string role;
  std::string invited_by;
  std::string member_with_email;  // the member whose account has this address, looked up by the caller; "" if none
};

struct Accept {
  std::string invitation_id;
  std::string user_id;
  bool address_matches = false;   // the user's account has the invited address (looked up by the caller)
  bool address_verified = false;  // and has proven it (email verification), so the account is the address's owner
};

Result<Decision> decide(const State& s, const Create& c, std::int64_t now_us);
Result<Decision> decide(const State& s, const Rename& c, const std::string& org_id, std::int64_t now_us);
Result<Decision> decide(const State& s, const Invite& c, const std::string& org_id, std::int64_t now_us);
Result<Decision> decide(const State& s, const Accept& c, const std::string& org_id, std::int64_t now_us);
// Declined by whoever holds the link; revoked by an owner or admin. An
// invitation that is no longer pending is Errc::not_found.
Result<Decision> decide_decline(const State& s, const std::string& invitation_id, const std::string& org_id,
                                std::int64_t now_us);
Result<Decision> decide_revoke(const State& s, const std::string& invitation_id, const std::string& org_id,
                               std::int64_t now_us);
// The owner's role changes only by a transfer; nobody becomes owner otherwise.
// Setting the role a member already has writes nothing. An admin given a
// lesser role also rotates the webhook secret.
Result<Decision> decide_change_role(const State& s, const std::string& user_id, const std::string& role,
                                    const std::string& org_id, std::int64_t now_us);
// `left`: the member removes themself. The owner is never removed (transfer first).
// An admin's removal also rotates the webhook secret.
Result<Decision> decide_remove(const State& s, const std::string& user_id, bool left, const std::string& org_id,
                               std::int64_t now_us);
// Starts the next generation of the webhook secret; the previous one signs
// for `grace_us` more (0: ends now; at most kWebhookSecretMaxGraceUs).
Result<Decision> decide_rotate_webhook_secret(const State& s, const std::string& org_id, std::int64_t grace_us,
                                              std::int64_t now_us);
// To another member, who becomes owner; the previous owner becomes an admin.
Result<Decision> decide_transfer(const State& s, const std::string& to_user_id, const std::string& org_id);

void apply(State& s, const std::string& type, const boost::json::object& data, std::int64_t occurred_at_us);

}  // namespace causeway::organization
