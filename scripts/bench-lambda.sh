#!/usr/bin/env bash
# The Lambda figures: cold start and warm latency of both handlers (the packaged bootstrap as a process, fed
# by a Runtime API double) beside the Python/boto3 reference peer, and the zip size. Starts moto and stops it.
# Usage: scripts/bench-lambda.sh [cold-runs]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/package-lambda.sh
python3 -c 'import boto3' 2>/dev/null || python3 -m pip install -q boto3
swift build -c release --product lambda-benchmark
benchmark="$(swift build -c release --product lambda-benchmark --show-bin-path)/lambda-benchmark"
eval "$(scripts/moto.sh start)"
trap 'scripts/moto.sh stop' EXIT
arch="$(uname -m)"; [ "$arch" = aarch64 ] && arch=arm64
"$benchmark" ".build/lambda/$arch/bootstrap" ".build/lambda/facecluster-lambda-$arch.zip" scripts/bench/python_api_peer.py "${1:-5}"
