#!/usr/bin/env bash
# Installs the Debian packages FaceClusterKit builds against, when they are missing. Safe to run again.
set -euo pipefail

# libdlib-dev (the local face engine) does not pull a BLAS: libopenblas0-pthread is ~8× faster than the
# reference BLAS for the face embedding. libpng-dev and libwebp-dev (static archives, linked into the Lambda
# too) and libheif-dev (HEIC, local engine only) decode the formats other than JPEG; libheif-examples (heif-enc)
# makes the HEIC of scripts/bench-local.sh. libsqlite3-dev for the local metadata store (GRDB).
# chromium and chromium-driver run the web gallery's browser tests (headless).
packages=(libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libwebp-dev libheif-dev libde265-dev libheif-examples python3 libdlib-dev libopenblas0-pthread libsqlite3-dev chromium chromium-driver)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} (apt-get)…" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The SigV4 tests compare signatures with botocore, AWS's own Python SDK.
# pip where the Python allows it; Debian's own package where it is externally managed (PEP 668).
if ! python3 -c 'import botocore' 2>/dev/null; then
  echo "Installing botocore…" >&2
  python3 -m pip install -q botocore 2>/dev/null || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-botocore >/dev/null
fi

# boto3 drives `facecluster rekognition-server` as an independent client.
if ! python3 -c 'import boto3' 2>/dev/null; then
  echo "Installing boto3…" >&2
  python3 -m pip install -q boto3 2>/dev/null || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-boto3 >/dev/null
fi

# The API tests check Docs/openapi.yaml and the answers against it; CI lints the deployment template.
if ! python3 -c 'import openapi_spec_validator, openapi_schema_validator, yaml' 2>/dev/null; then
  echo "Installing openapi-spec-validator…" >&2
  python3 -m pip install -q openapi-spec-validator
fi
if ! python3 -c 'import cfnlint' 2>/dev/null; then
  echo "Installing cfn-lint…" >&2
  python3 -m pip install -q cfn-lint
fi

# The web gallery is tested in a real browser (selenium drives chromium) and the API fuzzed from its spec.
if ! python3 -c 'import selenium, schemathesis' 2>/dev/null; then
  echo "Installing selenium and schemathesis…" >&2
  python3 -m pip install -q selenium schemathesis
fi
