#!/usr/bin/env bash
# Set-up command 2: installs what the tests need, starts the local AWS peers (moto), runs every test, and
# stops the peers again; then the web gallery in headless chromium and the API fuzzed from its spec
# (Tests/Browser/run.sh), and the serverless backend on this machine (Tests/Stack/run.sh: scripts/dev-stack.sh,
# then scripts/chaos.sh). Everything runs on this machine, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/fetch-test-data.sh   # the face models and labeled photos of the local-engine tests (apt, PyPI)
eval "$(scripts/moto.sh start)"
trap 'scripts/moto.sh stop' EXIT
swift test "$@"
# With a filter only the Swift tests run.
if [ $# -eq 0 ]; then
  Tests/Browser/run.sh
  Tests/Stack/run.sh
fi
