#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, and runs the whole
# test suite under CTest. With CAUSEWAY_SANITIZE=1 (CI does this) it then
# builds into build-asan/ with AddressSanitizer + UBSan and runs it again.
#
# Time: every stage has a budget (tools/stages.sh) and the whole run is bound
# by CAUSEWAY_DEADLINE (default: 75 minutes from the start); each test has
# its group's CTest TIMEOUT (tests/CMakeLists.txt). The last line printed is
# CTest's summary of the last suite run.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/stages.sh

suite_log=$(mktemp)
trap 'rm -f "$suite_log"' EXIT

run_suite() {
  local dir=$1 build_budget=$2 test_budget=$3; shift 3
  stage "build $dir" "$build_budget" env CAUSEWAY_BUILD_DIR="$dir" tools/build.sh -DCAUSEWAY_WERROR=ON "$@"
  # No --timeout here: each test's TIMEOUT property is its budget.
  stage "tests $dir" "$test_budget" bash -c \
    'cd "$1" && ctest --output-on-failure -j "${CAUSEWAY_TEST_JOBS:-2}" 2>&1 | tee "$2"; exit "${PIPESTATUS[0]}"' \
    _ "$dir" "$suite_log"
}

stage setup 900 tools/setup.sh
# The OpenAPI validator's packages, pinned by tools/openapi/package-lock.json.
stage "npm ci" 300 bash -c 'cd tools/openapi && npm ci --no-audit --no-fund --loglevel=error'
run_suite build 1800 900 -DCAUSEWAY_SANITIZE=OFF
if [ "${CAUSEWAY_SANITIZE:-0}" = 1 ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-asan 1800 1200 -DCAUSEWAY_SANITIZE=ON -DCAUSEWAY_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
fi
stage_summary
grep -E '^[0-9]+% tests passed|^Total Test time' "$suite_log" || true
