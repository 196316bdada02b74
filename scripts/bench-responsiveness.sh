#!/usr/bin/env bash
# How an API server, a Lambda-style Runtime API loop and a 5 ms timer in one process answer while the local
# engine analyses photos (36 photos of 0.2–3.4 MP, 2 at a time), measured twice in one run: with blocking work
# on threads of its own (BlockingWork, the default) and inline on Swift's cooperative threads, as before
# (FACECLUSTER_BLOCKING_WORK=inline). The API is loaded by wrk from outside the process.
# Usage: scripts/bench-responsiveness.sh [seconds per phase, default 8]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/fetch-test-data.sh
if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi
labeled="${FACECLUSTER_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/facecluster/testdata/labeled}"
swift build -c release --product responsiveness-benchmark
benchmark="$(swift build -c release --product responsiveness-benchmark --show-bin-path)/responsiveness-benchmark"
photos="$(mktemp -d)"
trap 'rm -rf "$photos"' EXIT
for round in 1 2 3 4 5 6; do
  for photo in "$labeled"/obama/*.jpg "$labeled"/biden/biden.jpg; do cp "$photo" "$photos/$round-$(basename "$photo")"; done
done
"$benchmark" "$photos" "${1:-8}" 2>/dev/null
echo
FACECLUSTER_BLOCKING_WORK=inline "$benchmark" "$photos" "${1:-8}" 2>/dev/null
