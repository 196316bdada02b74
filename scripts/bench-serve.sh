#!/usr/bin/env bash
# facecluster serve under load (release build, 2 cores), three figures:
#   1. GET /api/people?limit=50 at 50 concurrent clients (wrk) on a synthetic library of 2,000 people;
#   2. the People page's first render in headless chromium (navigation → every card's face image decoded);
#   3. the API's latency (4 clients) while 50 photos of 0.2–3.4 MP dropped into a --watch folder are ingested.
# Usage: scripts/bench-serve.sh [people, default 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/fetch-test-data.sh
if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi
labeled="${FACECLUSTER_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/facecluster/testdata/labeled}"
swift build -c release --product facecluster >/dev/null
swift build -c release --product serve-benchmark >/dev/null
bin="$(swift build -c release --show-bin-path)"
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start() { # STORE [serve options…]: starts facecluster serve, sets $base
  "$bin/facecluster" serve --store "$@" --port 0 >"$work/serve.out" 2>"$work/serve.err" &
  pid=$!
  for _ in $(seq 1 200); do grep -q '^Gallery: ' "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
  base="$(sed -n 's/^Gallery: \(http[^ #]*\)\/.*/\1/p' "$work/serve.out")"
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

people="${1:-2000}"
"$bin/serve-benchmark" "$work/synthetic" "$people"
start "$work/synthetic"
wrk -t2 -c50 -d3s "$base/api/people?limit=50" >/dev/null   # warm-up
echo "1. GET /api/people?limit=50, 50 clients, 10 s, $people people: $(wrk -t2 -c50 -d10s -s scripts/bench/wrk_percentiles.lua "$base/api/people?limit=50" | tail -n 1)"
echo "   GET /api/people/{id}/photos, 50 clients, 10 s: $(
  person="$(curl -s "$base/api/people?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["people"][0]["id"])')"
  wrk -t2 -c50 -d10s -s scripts/bench/wrk_percentiles.lua "$base/api/people/$person/photos" | tail -n 1)"
echo "2. People page, first render in headless chromium: $(python3 scripts/bench/gallery_render.py "$base" 5)"
stop

mkdir -p "$work/watched"
start "$work/library" --watch "$work/watched"
wrk -t1 -c4 -d2s "$base/api/people" >/dev/null
echo "   idle API (4 clients, 5 s): $(wrk -t1 -c4 -d5s -s scripts/bench/wrk_percentiles.lua "$base/api/people" | tail -n 1)"
# 50 photos: the obama and biden photos (0.2–3.4 MP) six times over under distinct names, and 8 others.
n=0
for round in 1 2 3 4 5 6; do
  for photo in "$labeled"/obama/*.jpg "$labeled"/biden/biden.jpg; do n=$((n+1)); cp "$photo" "$work/watched/$round-$(basename "$photo")"; done
done
for photo in $(ls "$labeled"/John_*/*.jpg | head -n $((50 - n))); do cp "$photo" "$work/watched/"; done
started=$(date +%s.%N)
wrk -t1 -c4 -d60s -s scripts/bench/wrk_percentiles.lua "$base/api/people" >"$work/busy.out" &
wrk_pid=$!
while true; do
  sleep 0.5
  health="$(curl -s "$base/healthz")"
  done_count=$(grep -c '^indexed\|^no_faces\|^failed' "$work/serve.err" || true)
  if [ "$done_count" -ge 50 ] && echo "$health" | grep -q '"waiting":0,"running":0'; then break; fi
  if ! kill -0 $wrk_pid 2>/dev/null; then break; fi
done
elapsed=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
kill -INT $wrk_pid 2>/dev/null || true
wait $wrk_pid 2>/dev/null || true
echo "3. API (4 clients) while 50 photos are ingested from a --watch folder ($done_count done in ${elapsed} s, incl. the 2 scans before they are taken): $(tail -n 1 "$work/busy.out")"
stop
