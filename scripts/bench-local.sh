#!/usr/bin/env bash
# The local engine's figures: grouping quality and ingestion rate on the labeled set (61 photos, 7 people),
# time and peak memory for one 20 MP photo, and small faces in big photos (a 12 MP group photo with faces of
# 150-190 px, a 12,000 x 6,000 panorama with faces of 1,200, 550 and 340 px, a textured 48 MP photo with faces of
# 100-200 px, a textured 100 MP one with faces of 90-700 px) beside the face_recognition peer
# (the same dlib HOG detector, face_locations at full size as its users call it). Release build, all cores.
# The 48 MP photo is measured again as the grid HEIC an iPhone writes (HEIF Max).
# Usage: scripts/bench-local.sh  (the grouping peer: scripts/bench-grouping.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/fetch-test-data.sh
labeled="${FACECLUSTER_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/facecluster/testdata/labeled}"
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
swift build -c release --product facecluster
facecluster="$(swift build -c release --product facecluster --show-bin-path)/facecluster"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== facecluster evaluate on the labeled set (release, $(nproc) cores)"
"$facecluster" evaluate "$labeled"

echo
echo "== one 20 MP photo (5472×3648, textured, 12 MB, a face pasted at 2× scale): facecluster ingest"
python3 - "$labeled/obama/obama2.jpg" "$work/photo-20mp.jpg" <<'PY'
import sys
from PIL import Image
face = Image.open(sys.argv[1]).convert("RGB")
canvas = Image.effect_noise((5472, 3648), 60).convert("RGB")
canvas.paste(face.resize((face.width * 2, face.height * 2)), (1000, 600))
canvas.save(sys.argv[2], quality=90)
PY
/usr/bin/time -f "wall %e s, peak resident memory %M KB" "$facecluster" ingest "$work/photo-20mp.jpg" --store "$work/store" 2>&1 | grep -v "^ok"

echo
echo "== small faces in big photos: facecluster ingest (tiled second pass) beside face_recognition's face_locations"
if ! python3 -c 'import face_recognition' 2>/dev/null; then
  echo "Installing face_recognition 1.3.0 on the dlib-bin wheel (no compiling)…" >&2
  python3 -m pip install -q dlib-bin face_recognition_models==0.3.0 Pillow numpy Click
  python3 -m pip install -q --no-deps face_recognition==1.3.0
fi
python3 - "$labeled/obama/obama2.jpg" "$work" <<'PY'
import sys
from PIL import Image
face = Image.open(sys.argv[1]).convert("RGB")  # its face is 311 px wide
def canvas(name, size, faces, textured=False):
    image = Image.effect_noise(size, 40).convert("RGB") if textured else Image.new("RGB", size, (104, 104, 104))
    for side, x, y in faces:
        f = side / 311
        image.paste(face.resize((int(face.width * f), int(face.height * f))), (x, y))
    image.save(f"{sys.argv[2]}/{name}.jpg", quality=90)
canvas("group-12mp", (4000, 3000), [(150, 200, 300), (170, 1500, 1200), (190, 3000, 500)])
canvas("panorama-72mp", (12000, 6000), [(1200, 600, 500), (550, 6000, 1500), (340, 9500, 3500)])
canvas("phone-48mp", (8000, 6000), [(100, 500, 800), (130, 2500, 3000), (160, 4500, 1000), (200, 6500, 4000)], textured=True)
canvas("big-100mp", (12000, 8333), [(90, 500, 700), (130, 4000, 5000), (200, 8000, 1500), (400, 2000, 3000), (700, 9000, 4500)], textured=True)
PY
printf '%-18s %-24s %6s %9s %8s\n' photo program faces seconds "peak MB"
for photo in group-12mp panorama-72mp phone-48mp big-100mp; do
  for smallest in 80 0; do
    store="$work/store-$photo-$smallest"
    /usr/bin/time -f "%e %M" -o "$work/time" "$facecluster" ingest "$work/$photo.jpg" --store "$store" --smallest-face "$smallest" >/dev/null 2>&1
    read -r seconds kb < <(tail -n 1 "$work/time")
    faces=$("$facecluster" status --store "$store" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["faces"])')
    label="facecluster"; [ "$smallest" = 0 ] && label="facecluster, 1 pass"
    printf '%-18s %-24s %6s %9.2f %8.0f\n' "$photo" "$label" "$faces" "$seconds" "$(echo "$kb / 1024" | bc -l)"
  done
  python3 scripts/bench/detection_peer.py "$work/$photo.jpg" | python3 -c '
import json, sys
row = json.load(sys.stdin)
peer, faces, seconds, peak = (row[key] for key in ("peer", "faces", "seconds", "peak_rss_mb"))
print(f"{sys.argv[1]:18} {peer:24} {faces:6} {seconds:9.2f} {peak:8.0f}")' "$photo"
done

echo
echo "== the 48 MP photo as an iPhone stores it: HEIC, a grid of 512 px HEVC tiles (scripts/bench/make_grid_heic.py)"
echo "   (face_recognition reads no HEIC: Pillow has no HEIF decoder without a plugin)"
python3 scripts/bench/make_grid_heic.py "$work/phone-48mp.jpg" "$work/phone-48mp.heic" -j "$(nproc)" >/dev/null
store="$work/store-phone-48mp-heic"
/usr/bin/time -f "%e %M" -o "$work/time" "$facecluster" ingest "$work/phone-48mp.heic" --store "$store" >/dev/null 2>&1
read -r seconds kb < <(tail -n 1 "$work/time")
faces=$("$facecluster" status --store "$store" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["faces"])')
printf '%-18s %-24s %6s %9.2f %8.0f\n' phone-48mp.heic facecluster "$faces" "$seconds" "$(echo "$kb / 1024" | bc -l)"
