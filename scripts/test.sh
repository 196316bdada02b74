#!/usr/bin/env bash
# Set-up command 2: installs what the tests need, then runs every test (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift test "$@"
