#!/usr/bin/env bash
# Face-thumbnail benchmark: facecluster (libjpeg-turbo) beside the reference peer, Pillow, plain and --draft,
# on the same inputs in one run. Prints each program's JSON line, then the ratios.
# Usage: scripts/bench-thumbnails.sh [REPEAT]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${1:-5}
work=.bench/thumbnails
mkdir -p "$work"

scripts/install-deps.sh
python3 -c 'import PIL' 2>/dev/null || pip install -q pillow
if [ ! -f "$work/Elephants_5640x3172.jpg" ]; then
  echo "Fetching the large test photo (Debian package mate-backgrounds)…" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq mate-backgrounds && dpkg-deb -x mate-backgrounds_*.deb pkg)
  cp "$tmp/pkg/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg" "$work/"
  rm -rf "$tmp"
fi
python3 scripts/bench/make_thumbnail_inputs.py "$work" >&2
# The same pixels as a baseline (sequential) JPEG, losslessly: progressive files cannot skip work at small
# DCT scales (every scan is entropy-decoded into a whole-image coefficient buffer), baseline ones can.
command -v jpegtran >/dev/null || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq libjpeg-turbo-progs >/dev/null || sudo apt-get install -y -qq libjpeg-turbo-progs >/dev/null; }
jpegtran -copy all -outfile "$work/Elephants_baseline.jpg" "$work/Elephants_5640x3172.jpg"
sed 's/Elephants_5640x3172.jpg/Elephants_baseline.jpg/' "$work/large.json" > "$work/large-baseline.json"
# And re-encoded at quality 90 (about what a camera writes): less entropy-coded data per pixel.
[ -f "$work/Elephants_q90.jpg" ] || python3 -c "from PIL import Image; Image.open('$work/Elephants_5640x3172.jpg').save('$work/Elephants_q90.jpg', quality=90)"
sed 's/Elephants_5640x3172.jpg/Elephants_q90.jpg/' "$work/large.json" > "$work/large-q90.json"

swift build -c release --product facecluster >&2
bin="$(swift build -c release --show-bin-path)/facecluster"

results=$(mktemp)
for set in large large-baseline large-q90 group group-dense; do
  for peer in facecluster pillow pillow-draft; do
    case $peer in
      facecluster)  line=$("$bin" bench thumbnails "$work/$set.json" --repeat "$repeat") ;;
      pillow)       line=$(cd "$work" && python3 ../../scripts/bench/pillow_thumbnails.py "$set.json" --repeat "$repeat") ;;
      pillow-draft) line=$(cd "$work" && python3 ../../scripts/bench/pillow_thumbnails.py --draft "$set.json" --repeat "$repeat") ;;
    esac
    echo "$set $line" | tee -a "$results"
  done
done

python3 - "$results" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    name, data = line.split(" ", 1)
    d = json.loads(data)
    rows.setdefault(name, {})[d["peer"]] = d
print()
print(f"{'input':14} {'program':12} {'photos/s':>9} {'faces/s':>9} {'ms/photo':>9} {'peak MB':>8}   vs Pillow  vs --draft")
for name, peers in rows.items():
    ours = peers["facecluster"]
    for peer in ["facecluster", "pillow", "pillow-draft"]:
        d = peers[peer]
        ratio = lambda other: f"{ours['photos_per_s'] / other['photos_per_s']:.2f}x"
        extra = f"   {ratio(peers['pillow']):>9}  {ratio(peers['pillow-draft']):>9}" if peer == "facecluster" else ""
        print(f"{name:14} {peer:12} {d['photos_per_s']:9.2f} {d['faces_per_s']:9.2f} {1000 / d['photos_per_s']:9.1f} {d['peak_rss_mb']:8.1f}{extra}")
    print(f"{name:14} decode alone at DCT scale {ours['dct_scale']}: {ours['decode_ms_per_photo']:.1f} ms/photo")
PY
