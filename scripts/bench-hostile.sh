#!/usr/bin/env bash
# Hostile-file benchmark: each file scripts/bench/make_hostile_jpegs.py writes (lying headers, a progressive
# decompression bomb, a 100-scan 99.7 MP file, the largest progressive photo the budgets accept, 12-bit,
# lossless, junk) ingested alone by `facecluster ingest` (release) into a fresh library, beside what the
# reference peer (Pillow, as the reference design's Lambda uses it) does with the same file.
# Prints the status each file is recorded with, wall seconds and peak RSS; the target (issue 13) is
# peak RSS < 300 MB and < 10 s for any file of at most 100 MP.
# Usage: scripts/bench-hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=.bench/hostile
mkdir -p "$work"

scripts/install-deps.sh
python3 -c 'import PIL' 2>/dev/null || pip install -q pillow
command -v jpegtran >/dev/null || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq libjpeg-turbo-progs >/dev/null || sudo apt-get install -y -qq libjpeg-turbo-progs >/dev/null; }
python3 scripts/bench/make_hostile_jpegs.py "$work/files"

swift build -c release --product facecluster >&2
bin="$(swift build -c release --show-bin-path)/facecluster"

rows=$(mktemp)
for file in "$work"/files/*.jpg; do
  store=$(mktemp -d)
  timing=$(mktemp)
  /usr/bin/time -f "%e %M" -o "$timing" "$bin" ingest --store "$store" "$file" >/dev/null 2>&1 || true
  read -r seconds kb < <(tail -n 1 "$timing")   # time writes "Command exited with non-zero status" first
  echo "{\"file\": \"$(basename "$file")\", \"size\": $(stat -c %s "$file"), \"seconds\": $seconds, \"peak_kb\": $kb, \"photo\": $("$bin" status --store "$store" --json | python3 -c "import json, sys; print(json.dumps(json.load(sys.stdin)))")}" >> "$rows"
  python3 scripts/bench/pillow_decode.py "$file" >> "$rows"
  rm -rf "$store" "$timing"
done

python3 - "$rows" <<'PY'
import json, sys
print(f"{'file':22} {'bytes':>9}  {'program':11} {'result':60} {'seconds':>7} {'peak MB':>8}")
for line in open(sys.argv[1]):
    row = json.loads(line)
    if row.get("peer") == "pillow":
        print(f"{'':22} {'':9}  {'pillow':11} {row['result'][:60]:60} {row['seconds']:7.2f} {row['peak_rss_mb']:8.1f}")
        continue
    photo = row["photo"][0]
    failure = photo.get("failure")
    result = f"{photo['status']} {failure['code']}: {failure['message']}" if failure else f"{photo['status']} ({photo['faces']} faces)"
    verdict = "" if row["seconds"] < 10 and row["peak_kb"] < 300 * 1024 else "  over target"
    print(f"{row['file']:22} {row['size']:9}  {'facecluster':11} {result[:60]:60} {row['seconds']:7.2f} {row['peak_kb'] / 1024:8.1f}{verdict}")
PY
rm -f "$rows"
