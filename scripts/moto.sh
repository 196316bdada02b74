#!/usr/bin/env bash
# Starts or stops the local AWS peers the tests use: two moto servers on free loopback ports, each serving one
# request at a time (scripts/moto_serve.py: threaded moto loses conditional-write races that DynamoDB never does).
#   auth: verifies every SigV4 signature (an IAM user and key are created for the tests);
#   open: no signature checks — moto's auth check rejects correctly signed S3 keys holding + = % ü … (a moto
#         bug), so the unchanged PhotoStore conformance suite, awkward keys included, runs here.
# usage: eval "$(scripts/moto.sh start)"   …   scripts/moto.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."

# moto from the Python on PATH when it has it or pip may install it; otherwise (a Debian system Python is
# "externally managed", PEP 668) from a virtualenv in .build-venv, created once.
python=python3
ensure_moto() {
  python3 -c 'import moto, boto3, requests' 2>/dev/null && command -v moto_server >/dev/null && return
  if python3 -m pip install -q 'moto[server]' >&2 2>/dev/null && command -v moto_server >/dev/null; then return; fi
  if [ ! -x .build-venv/bin/moto_server ]; then
    echo "Installing moto[server] into .build-venv…" >&2
    python3 -m venv .build-venv 2>/dev/null || {
      sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv .build-venv
    }
    .build-venv/bin/pip install -q 'moto[server]' >&2
  fi
  python=.build-venv/bin/python
}

case "${1:-}" in
ensure)
  # Only makes sure moto can run; prints the Python to run it with.
  ensure_moto
  echo "$python"
  ;;
start)
  ensure_moto
  dir=$(mktemp -d /tmp/facecluster-moto.XXXXXX)
  port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
  open_port=$(port); auth_port=$(port)
  # Every stream redirected: nothing may hold the caller's $(…) pipe open.
  nohup "$python" scripts/moto_serve.py "$open_port" < /dev/null > "$dir/open.log" 2>&1 &
  echo $! > "$dir/open.pid"
  INITIAL_NO_AUTH_ACTION_COUNT=0 nohup "$python" scripts/moto_serve.py "$auth_port" < /dev/null > "$dir/auth.log" 2>&1 &
  echo $! > "$dir/auth.pid"
  for p in "$open_port" "$auth_port"; do
    for _ in $(seq 1 100); do
      python3 -c "import socket; socket.create_connection(('127.0.0.1', $p), 0.2)" 2>/dev/null && break
      sleep 0.2
    done
  done
  read -r key secret < <("$python" scripts/moto_bootstrap.py "http://127.0.0.1:$auth_port")
  echo "export FCK_MOTO_DIR=$dir FCK_MOTO_OPEN_URL=http://127.0.0.1:$open_port FCK_MOTO_AUTH_URL=http://127.0.0.1:$auth_port FCK_MOTO_AUTH_ACCESS_KEY=$key FCK_MOTO_AUTH_SECRET=$secret"
  echo "moto: open on $open_port, verifying signatures on $auth_port (logs in $dir)" >&2
  ;;
stop)
  dir=${FCK_MOTO_DIR:-}
  [ -n "$dir" ] || { echo "FCK_MOTO_DIR is not set" >&2; exit 0; }
  for name in open auth; do
    [ -f "$dir/$name.pid" ] && kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
  done
  ;;
*)
  echo "usage: $0 start|stop|ensure" >&2
  exit 2
  ;;
esac
