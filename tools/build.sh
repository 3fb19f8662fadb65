#!/usr/bin/env bash
# Builds Causeway into build/ (or $CAUSEWAY_BUILD_DIR) after installing what is missing.
#   tools/build.sh [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
build_dir=${CAUSEWAY_BUILD_DIR:-build}
jobs=${CAUSEWAY_JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${CAUSEWAY_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"
