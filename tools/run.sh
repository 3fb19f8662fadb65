#!/usr/bin/env bash
# Installs what is missing, builds, and starts the server on the embedded default:
# RocksDB log and keys under ./data, HTTP on 127.0.0.1:8080 (override with flags,
# e.g. tools/run.sh --port 9000, or CAUSEWAY_* environment variables).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh -DCAUSEWAY_BENCH=OFF
exec build/tools/causeway serve --data-dir "${CAUSEWAY_DATA_DIR:-./data}" "$@"
