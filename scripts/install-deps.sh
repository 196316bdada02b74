#!/usr/bin/env bash
# Installs the Debian packages FaceClusterKit builds against, when they are missing. Safe to run again.
set -euo pipefail

packages=(libturbojpeg0-dev libjpeg62-turbo-dev python3 python3-pip)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "Installing ${missing[*]} (apt-get)…" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The SigV4 tests compare signatures with botocore, AWS's own Python SDK.
if ! python3 -c 'import botocore' 2>/dev/null; then
  echo "Installing botocore (pip)…" >&2
  python3 -m pip install -q botocore
fi
