#include "engine/aggregates/organization.h"

#include <fmt/format.h>

#include <boost/json/value_to.hpp>

namespace causeway::organization {
namespace json = boost::json;

namespace {

DraftEvent event(const char* type, const std::string& org_id) {
  DraftEvent e;
  e.type = type;
  e.data["org_id"] = org_id;
  return e;
}

const Member* member(const State& s, const std::string& user_id) {
  auto it = s.members.find(user_id);
  return it == s.members.end() ? nullptr : &it->second;
}

Status assignable(const std::string& role) {
  if (role == "owner")
    return Error::invalid("the owner role is given only by an ownership transfer", "/role");
  if (!valid_role(role))
    return Error::invalid(fmt::format("unknown role {}; use admin, member, analyst or compliance_officer", role),
                          "/role");
  return ok_status();
}

}  // namespace

bool valid_role(const std::string& role) {
  return role == "owner" || role == "admin" || role == "member" || role == "analyst" || role == "compliance_officer";
}

std::int64_t seats_taken(const State& s, std::int64_t now_us) {
  std::int64_t n = static_cast<std::int64_t>(s.members.size());
  for (const auto& [id, inv] : s.invitations) n += inv.expires_at_us > now_us ? 1 : 0;
  return n;
}

bool is_pending(const State& s, const std::string& invitation_id, std::int64_t now_us) {
  auto it = s.invitations.find(invitation_id);
  return it != s.invitations.end() && it->second.expires_at_us > now_us;
}

std::string role_of(const State& s, const std::string& user_id) {
  const Member* m = member(s, user_id);
  return m ? m->role : std::string();
}

Result<Decision> decide(const State& s, const Create& c, std::int64_t) {
  if (s.exists) return Error::conflict("the organization already exists");
  if (!c.owner_exists) return Error::invalid("the owner is not a known user", "/owner_user_id");
  DraftEvent e = event("organization.created", c.org_id);
  e.data["slug"] = c.slug;
  e.data["name"] = c.name;
  e.data["owner_user_id"] = c.owner_user_id;
  e.subjects = {c.owner_user_id};
  Decision d = decision_of(std::move(e));
  d.reservations.push_back({"slug:" + c.slug, c.org_id, "/slug"});
  return d;
}

Result<Decision> decide(const State& s, const Rename& c, const std::string& org_id, std::int64_t) {
  if (!s.exists) return Error::not_found("no such organization");
  if (c.name == s.name) return Decision{};  // nothing changes, nothing is written
  DraftEvent e = event("organization.renamed", org_id);
  e.data["name"] = c.name;
  e.data["previous_name"] = s.name;
  return decision_of(std::move(e));
}

Result<Decision> decide(const State& s, const Invite& c, const std::string& org_id, std::int64_t now_us) {
  if (!s.exists) return Error::not_found("no such organization");
  if (auto st = assignable(c.role); !st) return std::move(st).error();
  if (!c.member_with_email.empty())
    return Error::conflict("a member of the organization already has this address", "/email");
  for (const auto& [id, inv] : s.invitations)
    if (inv.email_index == c.email_index && inv.expires_at_us > now_us)
      return Error::conflict(
          fmt::format("invitation {} to this address is still pending; revoke it to invite again", id), "/email");
  DraftEvent e = event("organization.member_invited", org_id);
  e.data["org_name"] = s.name;
  e.data["invitation_id"] = c.invitation_id;
  e.data["email"] = c.email;
  e.data["email_index"] = c.email_index;
  e.data["role"] = c.role;
  e.data["expires_at_us"] = now_us + kInvitationTtlUs;
  e.data["invited_by"] = c.invited_by;
  e.subjects = {"invitation-" + c.invitation_id};
  return decision_of(std::move(e));
}

namespace {
Result<const Invitation*> pending(const State& s, const std::string& invitation_id, std::int64_t now_us) {
  auto it = s.invitations.find(invitation_id);
  if (!s.exists || it == s.invitations.end())
    return Error::not_found("the invitation was accepted, declined or revoked, or never existed");
  if (now_us >= it->second.expires_at_us) return Error::not_found("the invitation has expired; ask for a new one");
  return &it->second;
}
}  // namespace

Result<Decision> decide(const State& s, const Accept& c, const std::string& org_id, std::int64_t now_us) {
  auto inv = pending(s, c.invitation_id, now_us);
  if (!inv) return std::move(inv).error();
  if (!c.address_matches)
    return Error::forbidden("the invitation was sent to another address; sign in with the account that has it");
  if (!c.address_verified)
    return Error::forbidden(
        "verify your email address first (the link in the welcome mail, or POST /v1/users/verification-requests)");
  if (member(s, c.user_id)) return Error::conflict("you are already a member of the organization");
  DraftEvent e = event("organization.invitation_accepted", org_id);
  e.data["invitation_id"] = c.invitation_id;
  e.data["user_id"] = c.user_id;
  e.data["role"] = (*inv)->role;
  e.subjects = {c.user_id};
  return decision_of(std::move(e));
}

Result<Decision> decide_decline(const State& s, const std::string& invitation_id, const std::string& org_id,
                                std::int64_t now_us) {
  auto inv = pending(s, invitation_id, now_us);
  if (!inv) return std::move(inv).error();
  DraftEvent e = event("organization.invitation_declined", org_id);
  e.data["invitation_id"] = invitation_id;
  return decision_of(std::move(e));
}

Result<Decision> decide_revoke(const State& s, const std::string& invitation_id, const std::string& org_id,
                               std::int64_t now_us) {
  auto inv = pending(s, invitation_id, now_us);
  if (!inv) return Error::not_found("no such pending invitation");
  DraftEvent e = event("organization.invitation_revoked", org_id);
  e.data["invitation_id"] = invitation_id;
  return decision_of(std::move(e));
}

namespace {
DraftEvent rotation(const State& s, const std::string& org_id, const char* reason, std::int64_t grace_us,
                    std::int64_t now_us) {
  DraftEvent e = event("organization.webhook_secret_rotated", org_id);
  e.data["generation"] = static_cast<std::int64_t>(s.webhook_generation) + 1;
  e.data["previous_valid_until_us"] = now_us + grace_us;
  e.data["reason"] = reason;
  return e;
}
}  // namespace

Result<Decision> decide_rotate_webhook_secret(const State& s, const std::string& org_id, std::int64_t grace_us,
                                              std::int64_t now_us) {
  if (!s.exists) return Error::not_found("no such organization");
  if (grace_us < 0 || grace_us > kWebhookSecretMaxGraceUs)
    return Error::invalid("grace_hours must be 0 to 168", "/grace_hours");
  return decision_of(rotation(s, org_id, "requested", grace_us, now_us));
}

Result<Decision> decide_change_role(const State& s, const std::string& user_id, const std::string& role,
                                    const std::string& org_id, std::int64_t now_us) {
  const Member* m = s.exists ? member(s, user_id) : nullptr;
  if (!m) return Error::not_found("no such member");
  if (auto st = assignable(role); !st) return std::move(st).error();
  if (m->role == "owner")
    return Error::conflict("the owner's role changes only by an ownership transfer", "/role");
  if (m->role == role) return Decision{};
  DraftEvent e = event("organization.member_role_changed", org_id);
  e.data["user_id"] = user_id;
  e.data["role"] = role;
  e.data["previous_role"] = m->role;
  e.subjects = {user_id};
  auto d = decision_of(std::move(e));
  if (m->role == "admin") d.events.push_back(rotation(s, org_id, "role_changed", kWebhookSecretGraceUs, now_us));
  return d;
}

Result<Decision> decide_remove(const State& s, const std::string& user_id, bool left, const std::string& org_id,
                               std::int64_t now_us) {
  const Member* m = s.exists ? member(s, user_id) : nullptr;
  if (!m) return Error::not_found("no such member");
  if (m->role == "owner")
    return Error::conflict("an organization always has an owner: transfer the ownership to another member first");
  DraftEvent e = event("organization.member_removed", org_id);
  e.data["user_id"] = user_id;
  e.data["role"] = m->role;
  e.data["reason"] = left ? "left" : "removed";
  e.subjects = {user_id};
  auto d = decision_of(std::move(e));
  if (m->role == "admin")
    d.events.push_back(
        rotation(s, org_id, left ? "member_left" : "member_removed", kWebhookSecretGraceUs, now_us));
  return d;
}

Result<Decision> decide_transfer(const State& s, const std::string& to_user_id, const std::string& org_id) {
  if (!s.exists) return Error::not_found("no such organization");
  if (to_user_id == s.owner_user_id) return Error::conflict("this member already owns the organization", "/user_id");
  if (!member(s, to_user_id))
    return Error::invalid("ownership goes to a member of the organization; invite them first", "/user_id");
  DraftEvent e = event("organization.ownership_transferred", org_id);
  e.data["from_user_id"] = s.owner_user_id;
  e.data["to_user_id"] = to_user_id;
  e.subjects = {to_user_id, s.owner_user_id};
  return decision_of(std::move(e));
}

void apply(State& s, const std::string& type, const json::object& data, std::int64_t occurred_at_us) {
  auto str = [&](const char* k) {
    auto* v = data.if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (type == "organization.created") {
    s.exists = true;
    s.slug = str("slug");
    s.name = str("name");
    s.owner_user_id = str("owner_user_id");
    s.members[s.owner_user_id] = Member{"owner", occurred_at_us};
  } else if (type == "organization.renamed") {
    s.name = str("name");
  } else if (type == "organization.member_invited") {
    const auto* exp = data.if_contains("expires_at_us");
    s.invitations[str("invitation_id")] =
        Invitation{str("email_index"), str("role"), exp && exp->is_int64() ? exp->as_int64() : 0, str("invited_by")};
  } else if (type == "organization.invitation_accepted") {
    s.invitations.erase(str("invitation_id"));
    s.members[str("user_id")] = Member{str("role"), occurred_at_us};
  } else if (type == "organization.invitation_declined" || type == "organization.invitation_revoked") {
    s.invitations.erase(str("invitation_id"));
  } else if (type == "organization.member_role_changed") {
    s.members[str("user_id")].role = str("role");
  } else if (type == "organization.member_removed") {
    s.members.erase(str("user_id"));
  } else if (type == "organization.ownership_transferred") {
    s.members[str("from_user_id")].role = "admin";
    s.members[str("to_user_id")].role = "owner";
    s.owner_user_id = str("to_user_id");
  } else if (type == "organization.webhook_secret_rotated") {
    const auto* g = data.if_contains("generation");
    const auto* until = data.if_contains("previous_valid_until_us");
    if (g && g->is_int64()) s.webhook_generation = static_cast<std::uint32_t>(g->as_int64());
    s.previous_secret_until_us = until && until->is_int64() ? until->as_int64() : 0;
  }
  // Expired invitations are dropped as the state moves on, so it stays small.
  std::erase_if(s.invitations, [&](const auto& kv) { return kv.second.expires_at_us + kInvitationTtlUs < occurred_at_us; });
}

}  // namespace causeway::organization
