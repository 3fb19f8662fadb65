#!/usr/bin/env bash
# The editing loop: rebuilds build/ incrementally (the product and the unit
# tests only, no benchmarks) and runs the unit tests, the ones that need no
# Causeway server (ctest -L unit). Extra arguments go to ctest, e.g.
#   tools/quick.sh -R 'codec'
# It installs nothing: run tools/build.sh or tools/test.sh once first.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${CAUSEWAY_BUILD_DIR:-build}
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAUSEWAY_WERROR=ON >/dev/null
fi
cmake --build "$build_dir" -j "$(nproc)" --target causeway causeway_unit_tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! ctest --test-dir "$build_dir" -L unit -j "$(nproc)" --output-on-failure "$@" >"$log" 2>&1; then
  cat "$log"
  exit 1
fi
tail -n 3 "$log"
