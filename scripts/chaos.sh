#!/usr/bin/env bash
# Chaos and load on the serverless backend on this machine (scripts/dev-stack.sh): N photos of real faces
# (default 1000; the labeled photos and lfw10, then copies with distinct bytes) through the stack twice, without
# faults and then with 10 % of the ingest function's S3, DynamoDB and Rekognition calls failing (throttling and
# 5xx, injected in front of moto and the Rekognition endpoint), 5 ingest processes killed mid-batch and every
# S3 event delivered up to 3 times. Prints photos finished and lost, duplicates, dead letters and why, whether
# the people are the same, photos/s and Rekognition calls per photo. Exit 1 when a target is missed.
# usage: scripts/chaos.sh [N]     env: BOOTSTRAP (default: the packaged one if built, else a debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000}
samples="${FACECLUSTER_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/facecluster/testdata/labeled}"
[ -d "$samples" ] || scripts/fetch-test-data.sh >&2
free() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
export DEV_STACK_DIR="${DEV_STACK_DIR:-$(mktemp -d)/chaos}" MOTO_PORT=${MOTO_PORT:-$(free)} REKOGNITION_PORT=${REKOGNITION_PORT:-$(free)} API_PORT=${API_PORT:-$(free)}
if [ -z "${BOOTSTRAP:-}" ] && [ ! -x ".build/lambda/$(uname -m)/bootstrap" ]; then
  swift build --product bootstrap >&2
  export BOOTSTRAP="$(swift build --product bootstrap --show-bin-path)/bootstrap"
fi
python3 scripts/devstack/chaos.py "$count" "$samples" Tests/FaceClusterKitTests/Fixtures/lfw10
