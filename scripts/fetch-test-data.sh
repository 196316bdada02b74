#!/usr/bin/env bash
# Fetches labeled face photos (one folder per person) into FACECLUSTER_TESTDATA, else
# ${XDG_CACHE_HOME:-~/.cache}/facecluster/testdata/labeled — only from Debian and PyPI:
#   - Debian's libdlib19.1 examples: 5 people × 11 aligned 150×150 faces (examples/johns, Boost licence);
#   - the face_recognition 1.3.0 sdist's test photos (MIT): obama × 5 (two partial faces), biden × 1;
#   - beside them, in pascal/: the same package's 9 PASCAL VOC photos with their 43 face boxes
#     (examples/faces: training.xml, testing.xml), for the detector's recall.
# Also fetches the models (scripts/fetch-models.sh). Safe to run again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/fetch-models.sh"

labeled="${FACECLUSTER_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/facecluster/testdata/labeled}"
pascal="$(dirname "$labeled")/pascal"
[ -s "$labeled/biden/biden.jpg" ] && [ -d "$labeled/John_Simm" ] && [ -s "$pascal/testing.xml" ] && exit 0
echo "Fetching labeled face photos into $labeled…" >&2
mkdir -p "$labeled"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

johns=/usr/share/doc/libdlib19.1/examples/johns
if [ ! -d "$johns" ]; then
  (cd "$work" && apt-get download libdlib19.1 >/dev/null 2>&1) || {
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && (cd "$work" && apt-get download libdlib19.1 >/dev/null)
  }
  dpkg-deb -x "$work"/libdlib19.1_*.deb "$work/deb"
  johns="$work/deb/usr/share/doc/libdlib19.1/examples/johns"
fi
mkdir -p "$pascal"
cp "$johns/../faces/"20*.jpg "$johns/../faces/training.xml" "$johns/../faces/testing.xml" "$pascal/"
for person in "$johns"/*/; do
  name="$(basename "$person")"
  mkdir -p "$labeled/$name"
  cp "$person"*.jpg "$labeled/$name/"
done

python3 -m pip download -q --no-deps --no-binary :all: face_recognition==1.3.0 -d "$work" >&2
tar -xzf "$work"/face_recognition-1.3.0.tar.gz -C "$work"
images="$work/face_recognition-1.3.0/tests/test_images"
mkdir -p "$labeled/obama" "$labeled/biden"
cp "$images"/obama*.jpg "$labeled/obama/"
cp "$images/biden.jpg" "$labeled/biden/"
echo "$(find "$labeled" -name '*.jpg' | wc -l) labeled photos in $labeled" >&2
