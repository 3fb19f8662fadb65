#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, and runs the whole
# test suite under CTest. With CAUSEWAY_SANITIZE=1 (CI does this second) it
# builds into build-asan/ with AddressSanitizer + UBSan and runs it again.
set -euo pipefail
cd "$(dirname "$0")/.."
run_suite() {
  local dir=$1; shift
  CAUSEWAY_BUILD_DIR=$dir tools/build.sh -DCAUSEWAY_WERROR=ON "$@"
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j "${CAUSEWAY_TEST_JOBS:-2}")
}
# The OpenAPI validator's packages, pinned by tools/openapi/package-lock.json.
tools/setup.sh
(cd tools/openapi && npm ci --no-audit --no-fund --loglevel=error)
run_suite build -DCAUSEWAY_SANITIZE=OFF
if [ "${CAUSEWAY_SANITIZE:-0}" = 1 ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-asan -DCAUSEWAY_SANITIZE=ON -DCAUSEWAY_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
fi
