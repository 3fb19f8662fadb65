// The product's embedded schemas, compiled once for the tests that need only
// a registry (not a whole pipeline).
#pragma once

#include <doctest/doctest.h>

#include "engine/schema_registry.h"

namespace causeway::testing {

inline const SchemaRegistry& embedded_registry() {
  static auto reg = SchemaRegistry::from_embedded();
  REQUIRE(reg.ok());
  return **reg;
}

}  // namespace causeway::testing
