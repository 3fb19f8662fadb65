// The upcaster chain: old payload versions brought up to date step by step.
#include <doctest/doctest.h>

#include "events/upcast.h"

using namespace causeway;

TEST_CASE("the upcaster chain brings an old payload to the newest version step by step") {
  Upcaster up;
  up.add("user.signed_up", 1, [](boost::json::object& d) -> Status {
    d["name"] = d["display_name"];
    d.erase("display_name");
    return ok_status();
  });
  up.add("user.signed_up", 2, [](boost::json::object& d) -> Status {
    d["locale"] = "en";
    return ok_status();
  });
  boost::json::object data{{"display_name", "Ann"}};
  auto v = up.upcast("user.signed_up", 1, data);
  REQUIRE(v.ok());
  CHECK(*v == 3);
  CHECK(data.at("name").as_string() == "Ann");
  CHECK(data.at("locale").as_string() == "en");
  boost::json::object other{{"x", 1}};
  CHECK(*up.upcast("organization.created", 1, other) == 1);
}
