#!/usr/bin/env bash
# Set-up command 1: installs what is needed, builds, and runs the main job.
# Until the local face engine lands, the main job is the in-memory demo (`facecluster demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --product facecluster
swift run facecluster demo "$@"
