#!/usr/bin/env bash
# The web gallery and the API over HTTP, as a user meets them: builds `facecluster`, ingests the labeled photos
# into a fresh library, starts `facecluster serve` on a free port, then
#   1. sends 64 concurrent requests to each main read route (concurrency_check.py: all answered),
#   2. drives the gallery in headless chromium (gallery_test.py; screenshots in .build/screenshots), and
#   3. fuzzes the API from Docs/openapi.yaml with schemathesis: no 5xx, no answer that breaks the spec.
# Run by scripts/test.sh after the Swift tests; needs chromium, chromium-driver, selenium and schemathesis
# (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
samples="${FACECLUSTER_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/facecluster/testdata/labeled}"
swift build --product facecluster >/dev/null
facecluster="$(swift build --product facecluster --show-bin-path)/facecluster"
work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$facecluster" ingest "$samples" --store "$work/library" --json >/dev/null 2>&1
"$facecluster" serve --store "$work/library" --port 0 >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q '^Gallery: ' "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
base="$(sed -n 's/^Gallery: \(http[^ #]*\).*/\1/p' "$work/serve.out")"
[ -n "$base" ] || { echo "facecluster serve did not start:"; cat "$work/serve.err"; exit 1; }
echo "facecluster serve at $base (library of $(ls "$samples" | wc -l) people's photos)"

status=0
sample="$samples/biden/biden.jpg"
python3 Tests/Browser/concurrency_check.py "$base" || status=1
python3 Tests/Browser/gallery_test.py "$base" .build/screenshots "$sample" || status=1

echo "schemathesis: fuzzing ${base%/}/api from Docs/openapi.yaml"
schemathesis run Docs/openapi.yaml --url "${base%/}/api" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" ${SCHEMATHESIS_SEED:+--seed "$SCHEMATHESIS_SEED"} --no-color >"$work/schemathesis.out" 2>&1 || status=1
tail -n 25 "$work/schemathesis.out"
if grep -q "request failed\|Fatal" "$work/serve.err"; then
  echo "the server logged failures:"; grep "request failed\|Fatal" "$work/serve.err" | head -20; status=1
fi
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "facecluster serve died; the end of what it printed (its backtrace):"; grep -v "^0x0000" "$work/serve.err" | tail -n 60; status=1
fi
exit $status
