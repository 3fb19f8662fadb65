#include <doctest/doctest.h>

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
