#!/usr/bin/env bash
# Grouping quality and speed beside the face_recognition peer (PyPI face_recognition 1.3.0 with
# face_recognition_models 0.3.0 on the dlib-bin wheel: the same dlib models), on the same photos:
#   labeled  61 photos of 7 people (scripts/fetch-test-data.sh)
#   lfw10    100 LFW news photos of 10 people (Tests/FaceClusterKitTests/Fixtures/lfw10)
#   large    36 photos of 0.2–3.4 MP (the labeled set's Obama and Biden photos, 6 copies each)
# The peer groups the way its README compares faces (compare_faces, tolerance 0.6, a face joins the first
# person it matches); ours is `facecluster evaluate` at the defaults. Both score the largest face of each
# photo (BCubed) and analyse 2 photos at a time (the peer in 2 processes; ours `ingest --jobs 2`: 2 engines, and 4
# photos in flight, the two not being analysed waiting their turn or having their records written); photos/s and peak memory are those of a whole `facecluster ingest` process
# (models loaded, the photos analysed, grouped and consolidated, thumbnails cut) beside the whole peer process.
# Usage: scripts/bench-grouping.sh [ROUNDS]
#   ROUNDS (default 1): the sets are run that many times over, each set's two sides one after the other, and a last
#   table gives each set's median photos/s on each side and the median and range of the per-round ratios (ours ÷
#   the peer's): on a machine whose speed drifts from minute to minute, a single round's ratio is a draw.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-1}"
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then echo "usage: scripts/bench-grouping.sh [ROUNDS]  (a whole number, 1 or more)" >&2; exit 2; fi
scripts/install-deps.sh
scripts/fetch-test-data.sh
if ! python3 -c 'import face_recognition' 2>/dev/null; then
  echo "Installing face_recognition 1.3.0 on the dlib-bin wheel (no compiling)…" >&2
  python3 -m pip install -q dlib-bin face_recognition_models==0.3.0 Pillow numpy Click
  python3 -m pip install -q --no-deps face_recognition==1.3.0
fi
labeled="${FACECLUSTER_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/facecluster/testdata/labeled}"
swift build -c release --product facecluster
facecluster="$(swift build -c release --product facecluster --show-bin-path)/facecluster"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/large/obama" "$work/large/biden"
for round in 1 2 3 4 5 6; do
  for photo in "$labeled"/obama/*.jpg; do cp "$photo" "$work/large/obama/$round-$(basename "$photo")"; done
  cp "$labeled/biden/biden.jpg" "$work/large/biden/$round-biden.jpg"
done

# Seconds since a `date +%s.%N` time.
since() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$(date +%s.%N)"; }

printf '%-8s %-22s %9s %9s %7s %7s %10s %8s\n' set grouping "BCubed F1" precision "wrong" people photos/s "peak MB"
: > "$work/runs"  # one line a run: set, side, photos/s, peak MB
for round in $(seq "$rounds"); do for set in labeled lfw10 large; do
  case $set in labeled) dir="$labeled";; lfw10) dir=Tests/FaceClusterKitTests/Fixtures/lfw10;; large) dir="$work/large";; esac
  # Timed from outside, like ours: the interpreter's start and the models' loading count on both sides.
  start=$(date +%s.%N)
  peer=$(/usr/bin/time -f "%M" -o "$work/peer.mem" python3 scripts/bench/grouping_peer.py "$dir" --processes 2)
  seconds=$(since "$start")
  python3 - "$set" "$peer" "$seconds" "$(tail -n 1 "$work/peer.mem")" "$work/runs" <<'PY'
import json, sys
r = json.loads(sys.argv[2])
rate = r["photos"] / float(sys.argv[3])
print(f"{sys.argv[1]:<8} {'face_recognition 1.3.0':<22} {r['bcubedF1']:9.4f} {r['bcubedPrecision']:9.4f} {r['wrongMerges']:7d} {r['people']:7d} {rate:10.2f} {int(sys.argv[4]) / 1024:8.0f}")
with open(sys.argv[5], "a") as runs: print(sys.argv[1], "peer", rate, int(sys.argv[4]) / 1024, file=runs)
PY
  # Quality from `evaluate` (once a set: the grouping is the same in every round); speed and memory from a plain
  # `ingest` into a new library (evaluate reuses the analysis of identical files, which would flatter the copies in `large`).
  [ -f "$work/$set.evaluate" ] || "$facecluster" evaluate "$dir" --jobs 2 --json > "$work/$set.evaluate"
  ours=$(cat "$work/$set.evaluate")
  rm -rf "$work/store"
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/ours.mem" "$facecluster" ingest "$dir" --store "$work/store" --jobs 2 > /dev/null 2>&1 || true
  seconds=$(since "$start")
  python3 - "$set" "$ours" "$seconds" "$(tail -n 1 "$work/ours.mem")" "$work/runs" <<'PY'
import json, sys
r = json.loads(sys.argv[2]); s = r["result"]["score"]
rate = r["result"]["photos"] / float(sys.argv[3])
print(f"{sys.argv[1]:<8} {'facecluster (ours)':<22} {s['bcubedF1']:9.4f} {s['bcubedPrecision']:9.4f} {len(r['result']['mixed']):7d} {r['result']['peopleFound']:7d} {rate:10.2f} {int(sys.argv[4]) / 1024:8.0f}")
with open(sys.argv[5], "a") as runs: print(sys.argv[1], "ours", rate, int(sys.argv[4]) / 1024, file=runs)
PY
done; done
if [ "$rounds" -gt 1 ]; then
  python3 - "$work/runs" "$rounds" <<'PY'
import statistics, sys
runs = [line.split() for line in open(sys.argv[1])]
print(f"\n{sys.argv[2]} rounds: median photos/s (range), and ours ÷ the peer's, round by round")
print(f"{'set':<8} {'face_recognition 1.3.0':>24} {'facecluster (ours)':>24} {'ratio, median (range)':>26} {'peak MB, ours':>14}")
for name in ("labeled", "lfw10", "large"):
    peer = [float(r[2]) for r in runs if r[0] == name and r[1] == "peer"]
    ours = [float(r[2]) for r in runs if r[0] == name and r[1] == "ours"]
    memory = [float(r[3]) for r in runs if r[0] == name and r[1] == "ours"]
    ratios = [o / p for o, p in zip(ours, peer)]
    side = lambda v: f"{statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})"
    print(f"{name:<8} {side(peer):>24} {side(ours):>24} {f'{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}x)':>26} {f'{min(memory):.0f}-{max(memory):.0f}':>14}")
PY
fi
