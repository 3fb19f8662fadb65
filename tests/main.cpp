#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <sodium.h>

#include "api/log.h"

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  causeway::init_json_logging("error");
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
