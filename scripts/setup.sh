#!/usr/bin/env bash
# Set-up command 1: installs what is needed (apt, pip), fetches the face models and sample photos, builds
# `facecluster`, groups the sample photos into people on this machine (no AWS account), and prints the
# people with their photos. State goes to ./.facecluster; run it again and nothing changes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/fetch-test-data.sh
samples="${FACECLUSTER_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/facecluster/testdata/labeled}"
swift build --product facecluster
facecluster="$(swift build --product facecluster --show-bin-path)/facecluster"
echo "Grouping the sample photos in $samples into people…" >&2
"$facecluster" ingest "$samples" "$@"
echo
"$facecluster" people --photos
