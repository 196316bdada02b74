#!/usr/bin/env bash
# The local engine's figures: grouping quality and ingestion rate on the labeled set (61 photos, 7 people),
# and time and peak memory for one 20 MP photo. Release build, all cores. Usage: scripts/bench-local.sh
# No reference peer runs beside it: the reference design has no local engine, and face_recognition (the
# Python peer on the same dlib models) needs dlib compiled from source, which Debian 12 does not package.
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
