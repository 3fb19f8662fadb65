#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <utility>
#include <vector>

#include "engine/aggregates/inbox.h"
#include "engine/aggregates/organization.h"
#include "engine/aggregates/user.h"

using namespace causeway;

TEST_CASE("signup emits user.signed_up and reserves the blinded email") {
  user::Signup c{"user-1", "ann@example.com", "blind", "Ann", "$argon2id$..."};
  auto d = user::decide(user::State{}, c, 5);
  REQUIRE(d.ok());
  REQUIRE(d->events.size() == 1);
  CHECK(d->events[0].type == "user.signed_up");
  CHECK(d->events[0].subjects == std::vector<std::string>{"user-1"});
  REQUIRE(d->reservations.size() == 1);
  CHECK(d->reservations[0].key == "email:blind");
  CHECK(d->reservations[0].pointer == "/email");
}

TEST_CASE("signing up an existing user is a conflict") {
  user::State s;
  s.exists = true;
  CHECK(user::decide(s, user::Signup{"user-1"}, 0).error().code == Errc::conflict);
}

TEST_CASE("creating an organization needs a known owner") {
  organization::Create c{"org-1", "acme", "Acme", "user-1", false};
  auto d = organization::decide(organization::State{}, c, 0);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().pointer == "/owner_user_id");
  c.owner_exists = true;
  d = organization::decide(organization::State{}, c, 0);
  REQUIRE(d.ok());
  CHECK(d->reservations[0].key == "slug:acme");
}

TEST_CASE("apply folds organization events into state") {
  organization::State s;
  organization::Create c{"org-1", "acme", "Acme", "user-1", true};
  auto created = organization::decide(s, c, 0);
  REQUIRE(created.ok());
  for (auto& e : created->events) organization::apply(s, e.type, e.data, 0);
  CHECK(s.exists);
  CHECK(s.name == "Acme");
  auto r = organization::decide(s, organization::Rename{"Acme Inc"}, "org-1", 0);
  REQUIRE(r.ok());
  REQUIRE(r->events.size() == 1);
  CHECK(r->events[0].data.at("previous_name").as_string() == "Acme");
  for (auto& e : r->events) organization::apply(s, e.type, e.data, 0);
  CHECK(s.name == "Acme Inc");
}

TEST_CASE("renaming to the same name decides nothing") {
  organization::State s;
  s.exists = true;
  s.name = "Acme";
  auto r = organization::decide(s, organization::Rename{"Acme"}, "org-1", 0);
  REQUIRE(r.ok());
  CHECK(r->events.empty());
}

TEST_CASE("renaming an unknown organization is not found") {
  CHECK(organization::decide(organization::State{}, organization::Rename{"x"}, "org-1", 0).error().code ==
        Errc::not_found);
}

TEST_CASE("any sequence of membership commands leaves an organization with exactly one owner, who is a member") {
  // A deterministic random walk over every membership decision, folding what
  // each allows: the invariant holds at every step, and refusals change nothing.
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL;
  auto next = [&seed](std::uint64_t n) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed % n;
  };
  const std::vector<std::string> users = {"user-a", "user-b", "user-c", "user-d"};
  const std::vector<std::string> roles = {"owner", "admin", "member", "analyst", "compliance_officer"};
  organization::State s;
  std::int64_t now = 1'000'000;
  auto fold = [&](const Result<Decision>& d) {
    if (!d) return;
    for (const auto& e : d->events) organization::apply(s, e.type, e.data, now);
  };
  fold(organization::decide(s, organization::Create{"org-1", "acme", "Acme", "user-a", true}, now));
  std::vector<std::string> invitations;
  std::size_t most = 0;
  int transfers = 0;
  for (int step = 0; step < 5000; ++step) {
    now += 1'000'000;
    const std::string& u = users[next(users.size())];
    switch (next(6)) {
      case 0: {
        const std::string id = std::to_string(step);
        organization::Invite inv{id, u, "idx-" + u, roles[next(roles.size())], "admin",
                                 organization::role_of(s, u).empty() ? "" : u};
        fold(organization::decide(s, inv, "org-1", now));
        invitations.push_back(id);
        break;
      }
      case 1:
        if (!s.invitations.empty()) {
          auto it = std::next(s.invitations.begin(), static_cast<long>(next(s.invitations.size())));
          // Mostly the invited account; sometimes another, which must be refused.
          const std::string who = next(4) ? it->second.email_index.substr(4) : u;
          const bool match = it->second.email_index == "idx-" + who;
          fold(organization::decide(s, organization::Accept{it->first, who, match, true}, "org-1", now));
        }
        break;
      case 2: fold(organization::decide_change_role(s, u, roles[next(roles.size())], "org-1", 0)); break;
      case 3: fold(organization::decide_remove(s, u, next(2) == 0, "org-1", 0)); break;
      case 4: fold(organization::decide_transfer(s, u, "org-1")); break;
      case 5:
        if (!invitations.empty()) fold(organization::decide_revoke(s, invitations[next(invitations.size())], "org-1", now));
        break;
    }
    int owners = 0;
    for (const auto& [id, m] : s.members) owners += m.role == "owner";
    REQUIRE(owners == 1);
    REQUIRE(organization::role_of(s, s.owner_user_id) == "owner");
    most = std::max(most, s.members.size());
    transfers += s.owner_user_id != "user-a";
  }
  CHECK(most == users.size());  // the walk did reach full memberships
  CHECK(transfers > 0);         // and ownership transfers
}

TEST_CASE("an invitation is refused for the owner role, a pending address, or an address a member has") {
  organization::State s;
  auto created = organization::decide(s, organization::Create{"org-1", "a", "A", "user-a", true}, 0);
  REQUIRE(created.ok());
  for (const auto& e : created->events) organization::apply(s, e.type, e.data, 0);
  organization::Invite inv{"i1", "b@example.com", "idx-b", "owner", "admin", ""};
  CHECK(organization::decide(s, inv, "org-1", 0).error().pointer == "/role");
  inv.role = "member";
  auto d = organization::decide(s, inv, "org-1", 0);
  REQUIRE(d.ok());
  CHECK(d->events[0].subjects == std::vector<std::string>{"invitation-i1"});
  for (const auto& e : d->events) organization::apply(s, e.type, e.data, 0);
  inv.invitation_id = "i2";
  CHECK(organization::decide(s, inv, "org-1", 1).error().code == Errc::conflict);
  CHECK(organization::seats_taken(s, 1) == 2);
  // Expired: the address may be invited again, and the seat is free.
  CHECK(organization::decide(s, inv, "org-1", organization::kInvitationTtlUs + 1).ok());
  CHECK(organization::seats_taken(s, organization::kInvitationTtlUs + 1) == 1);
  inv.member_with_email = "user-b";
  CHECK(organization::decide(s, inv, "org-1", 1).error().pointer == "/email");
  // Accepting needs the address, proven: an unverified account with it is refused.
  CHECK(organization::decide(s, organization::Accept{"i1", "user-b", true, false}, "org-1", 1).error().code ==
        Errc::forbidden);
  CHECK(organization::decide(s, organization::Accept{"i1", "user-b", true, true}, "org-1", 1).ok());
  // An expired invitation is not pending: it cannot be revoked either.
  CHECK(organization::decide_revoke(s, "i1", "org-1", organization::kInvitationTtlUs + 1).error().code ==
        Errc::not_found);
}

TEST_CASE("an admin's removal, leaving or demotion rotates the webhook secret in the same decision; a member's does "
          "not") {
  organization::State s;
  s.exists = true;
  s.owner_user_id = "user-o";
  s.members = {{"user-o", {"owner", 0}}, {"user-a", {"admin", 0}}, {"user-m", {"member", 0}}};
  auto rotated = [](const Result<Decision>& d) {
    REQUIRE(d.ok());
    return std::count_if(d->events.begin(), d->events.end(),
                         [](const DraftEvent& e) { return e.type == "organization.webhook_secret_rotated"; });
  };
  const std::int64_t now = 1'000'000;
  auto removed = organization::decide_remove(s, "user-a", false, "org-1", now);
  CHECK(rotated(removed) == 1);
  CHECK(removed->events.back().data.at("reason").as_string() == "member_removed");
  CHECK(removed->events.back().data.at("generation").as_int64() == 1);
  CHECK(removed->events.back().data.at("previous_valid_until_us").as_int64() ==
        now + organization::kWebhookSecretGraceUs);
  auto left = organization::decide_remove(s, "user-a", true, "org-1", now);
  CHECK(left->events.back().data.at("reason").as_string() == "member_left");
  CHECK(rotated(organization::decide_change_role(s, "user-a", "member", "org-1", now)) == 1);
  CHECK(rotated(organization::decide_remove(s, "user-m", false, "org-1", now)) == 0);
  CHECK(rotated(organization::decide_change_role(s, "user-m", "admin", "org-1", now)) == 0);

  for (auto& e : removed->events) organization::apply(s, e.type, e.data, now);
  CHECK(s.webhook_generation == 1);
  CHECK(s.previous_secret_until_us == now + organization::kWebhookSecretGraceUs);
  auto again = organization::decide_rotate_webhook_secret(s, "org-1", 0, now);
  REQUIRE(again.ok());
  CHECK(again->events[0].data.at("generation").as_int64() == 2);
  CHECK(organization::decide_rotate_webhook_secret(s, "org-1", -1, now).error().pointer == "/grace_hours");
}

TEST_CASE("a password change ends the user's outstanding reset and sign-in links, not the verification link") {
  user::State s;
  s.exists = true;
  for (const auto& [type, id] : std::vector<std::pair<std::string, std::string>>{
           {"user.password_reset_requested", "r1"}, {"user.magic_link_requested", "m1"},
           {"user.verification_requested", "v1"}}) {
    boost::json::object data{{"user_id", "user-1"}, {"token_id", id}, {"expires_at_us", 10'000'000}};
    user::apply(s, type, data, 0);
  }
  REQUIRE(user::usable_token(s, "password_reset", "r1", 1).ok());
  REQUIRE(user::usable_token(s, "magic_link", "m1", 1).ok());
  user::apply(s, "user.password_changed", boost::json::object{{"user_id", "user-1"}}, 2);
  CHECK(user::usable_token(s, "password_reset", "r1", 3).error().code == Errc::unauthorized);
  CHECK(user::usable_token(s, "magic_link", "m1", 3).error().code == Errc::unauthorized);
  CHECK(user::usable_token(s, "verify_email", "v1", 3).ok());
  // A link asked for after the change works.
  user::apply(s, "user.magic_link_requested",
              boost::json::object{{"user_id", "user-1"}, {"token_id", "m2"}, {"expires_at_us", 10'000'000}}, 4);
  CHECK(user::usable_token(s, "magic_link", "m2", 5).ok());
}

TEST_CASE("an inbox keeps a read watermark per partition: marking all read records each partition that moved, and a "
          "notification is already read only below its own partition's watermark") {
  inbox::State s;
  auto all = inbox::decide_read_all(s, "user-1", {0, 40, 7});
  REQUIRE(all.ok());
  REQUIRE(all->events.size() == 2);
  for (const auto& e : all->events) inbox::apply(s, e.type, e.data, 0);
  CHECK(s.through(0) == 0);
  CHECK(s.through(1) == 40);
  CHECK(s.through(2) == 7);
  CHECK(all->events[1].data.at("partition").as_int64() == 2);
  CHECK(all->events[1].data.at("through_position").as_int64() == 7);
  // Position 12 of partition 2 is above that partition's watermark, though below partition 1's.
  auto late = inbox::decide_read(s, "user-1", "n-late", 2, 12);
  REQUIRE(late.ok());
  CHECK(late->events.size() == 1);
  auto covered = inbox::decide_read(s, "user-1", "n-old", 1, 12);
  REQUIRE(covered.ok());
  CHECK(covered->events.empty());
  // Nothing newer anywhere: nothing written; an event recorded before partitions names none and means partition 0.
  CHECK(inbox::decide_read_all(s, "user-1", {0, 40, 7})->events.empty());
  inbox::apply(s, "notification.all_read", boost::json::object{{"user_id", "user-1"}, {"through_position", 5}}, 0);
  CHECK(s.through(0) == 5);
}
