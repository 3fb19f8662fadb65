#!/usr/bin/env bash
# Installs, only when missing, the Debian bookworm packages Causeway builds and tests with.
# Idempotent: a second run installs nothing and does not touch apt's lists.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  librocksdb-dev libsqlite3-dev sqlite3 libcereal-dev libfmt-dev doctest-dev
  librdkafka-dev libsodium-dev libssl-dev libspdlog-dev prometheus-cpp-dev
  libcli11-dev libvalijson-dev
  libcurl4-openssl-dev python3-aiosmtpd python3-yaml
  curl procps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm run the OpenAPI validator in the tests (tools/openapi/); a
# machine that already has them (from any source) keeps its own.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
