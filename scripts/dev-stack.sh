#!/usr/bin/env bash
# The serverless backend on this machine, offline, with real faces:
#   moto (S3, SQS, DynamoDB)                       http://127.0.0.1:$MOTO_PORT  (default 4566)
#   facecluster rekognition-server                 http://127.0.0.1:$REKOGNITION_PORT  (default 4599)
#   the packaged bootstrap, run by a local Lambda runner (scripts/devstack/runner.py): the ingest function fed
#   by the queue as the event source mapping feeds it, the api function behind a local API Gateway (HTTP API)
#                                                  http://127.0.0.1:$API_PORT  (default 4510)
# Resources come from deploy/template.yaml (scripts/devstack/resources.py says which moto's CloudFormation
# creates and which are created otherwise). State lives in .build/dev-stack/ and goes with `down`.
#
# usage: scripts/dev-stack.sh up|down|status
#   env: BOOTSTRAP=path (default: .build/lambda/<arch>/bootstrap from scripts/package-lambda.sh, else a debug build)
#        VISIBILITY_TIMEOUT=seconds (default: the template's; at least the ingest function's timeout, as Lambda
#        requires), INGEST_TIMEOUT=seconds (the ingest function's Timeout), INGEST_INSTANCES=n (default 2),
#        MINIMUM_FACES_PER_PERSON=n (the functions' setting; 2 lists people as `facecluster` does: faces seen once wait)
#        FAULT_RATE=0.1 (a share of the ingest function's S3, DynamoDB and Rekognition calls fails: faults.py),
#        DUPLICATE_EVENTS=1 (each S3 event delivered 1–3 times), KILLS=n (ingest processes killed mid-batch)
set -euo pipefail
cd "$(dirname "$0")/.."
state=${DEV_STACK_DIR:-.build/dev-stack}
moto_port=${MOTO_PORT:-4566}
rekognition_port=${REKOGNITION_PORT:-4599}
api_port=${API_PORT:-4510}

stop_all() {
  for name in runner faults rekognition moto; do
    if [ -f "$state/$name.pid" ]; then
      kill "$(cat "$state/$name.pid")" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$(cat "$state/$name.pid")" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$(cat "$state/$name.pid")" 2>/dev/null || true
      rm -f "$state/$name.pid"
    fi
  done
}

wait_port() {
  for _ in $(seq 1 300); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing answers on port $1 ($2); see $state/*.log" >&2
  return 1
}

case "${1:-}" in
up)
  [ -f "$state/runner.pid" ] && kill -0 "$(cat "$state/runner.pid")" 2>/dev/null && { echo "the stack is up already (scripts/dev-stack.sh down first)" >&2; exit 1; }
  stop_all
  rm -rf "$state"; mkdir -p "$state/logs"
  python3 -c 'import boto3, yaml' 2>/dev/null || python3 -m pip install -q boto3 pyyaml
  python=$(scripts/moto.sh ensure)

  bootstrap=${BOOTSTRAP:-.build/lambda/$(uname -m)/bootstrap}
  if [ ! -x "$bootstrap" ]; then
    echo "No packaged bootstrap ($bootstrap; scripts/package-lambda.sh makes it): using a debug build." >&2
    swift build --product bootstrap > "$state/logs/build.log" 2>&1 || { cat "$state/logs/build.log" >&2; exit 1; }
    bootstrap="$(swift build --product bootstrap --show-bin-path)/bootstrap"
  fi
  swift build --product facecluster >> "$state/logs/build.log" 2>&1 || { cat "$state/logs/build.log" >&2; exit 1; }
  facecluster="$(swift build --product facecluster --show-bin-path)/facecluster"

  nohup "$python" scripts/moto_serve.py "$moto_port" < /dev/null > "$state/logs/moto.log" 2>&1 &
  echo $! > "$state/moto.pid"
  wait_port "$moto_port" moto
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test nohup "$facecluster" rekognition-server --port "$rekognition_port" \
    --s3-endpoint "http://127.0.0.1:$moto_port" --store "$state/rekognition" < /dev/null > "$state/logs/rekognition.log" 2>&1 &
  echo $! > "$state/rekognition.pid"
  wait_port "$rekognition_port" rekognition-server

  python3 scripts/devstack/resources.py deploy/template.yaml "http://127.0.0.1:$moto_port" \
    "http://127.0.0.1:$rekognition_port" "$state/stack.json" ${VISIBILITY_TIMEOUT:+--visibility-timeout "$VISIBILITY_TIMEOUT"}

  s3=http://127.0.0.1:$moto_port dynamodb=http://127.0.0.1:$moto_port rekognition=http://127.0.0.1:$rekognition_port
  ingest_env=()
  if [ -n "${FAULT_RATE:-}" ]; then
    free() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
    fault_aws=$(free); fault_rekognition=$(free)
    nohup python3 scripts/devstack/faults.py "$FAULT_RATE" "$state/calls.json" "aws=$fault_aws=$s3" "rekognition=$fault_rekognition=$rekognition" \
      < /dev/null > "$state/logs/faults.log" 2>&1 &
    echo $! > "$state/faults.pid"
    wait_port "$fault_aws" faults
    ingest_env=(--ingest-env "AWS_ENDPOINT_URL_S3=http://127.0.0.1:$fault_aws" --ingest-env "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$fault_aws"
                --ingest-env "AWS_ENDPOINT_URL_REKOGNITION=http://127.0.0.1:$fault_rekognition")
  fi
  nohup python3 scripts/devstack/runner.py "$state/stack.json" "$bootstrap" --moto "http://127.0.0.1:$moto_port" --api-port "$api_port" \
    --ingest-instances "${INGEST_INSTANCES:-2}" ${INGEST_TIMEOUT:+--ingest-timeout "$INGEST_TIMEOUT"} --logs "$state/logs" --ready-file "$state/ready.json" \
    ${DUPLICATE_EVENTS:+--duplicate-events} --kill "${KILLS:-0}" "${ingest_env[@]}" \
    --env AWS_REGION=us-east-1 --env AWS_ACCESS_KEY_ID=test --env AWS_SECRET_ACCESS_KEY=test \
    --env "AWS_ENDPOINT_URL_S3=$s3" --env "AWS_ENDPOINT_URL_DYNAMODB=$dynamodb" --env "AWS_ENDPOINT_URL_SQS=$s3" \
    --env "AWS_ENDPOINT_URL_REKOGNITION=$rekognition" ${MINIMUM_FACES_PER_PERSON:+--env "MINIMUM_FACES_PER_PERSON=$MINIMUM_FACES_PER_PERSON"} < /dev/null > "$state/logs/runner.log" 2>&1 &
  echo $! > "$state/runner.pid"
  for _ in $(seq 1 100); do [ -f "$state/ready.json" ] && break; sleep 0.1; done
  [ -f "$state/ready.json" ] || { echo "the Lambda runner did not start:" >&2; tail -n 20 "$state/logs/runner.log" >&2; stop_all; exit 1; }
  raw=$(python3 -c "import json; print(json.load(open('$state/stack.json'))['rawBucket'])")
  cat > "$state/env" <<EOF
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port AWS_ENDPOINT_URL_REKOGNITION=http://127.0.0.1:$rekognition_port
export RAW=$raw API=http://127.0.0.1:$api_port
EOF
  echo "The stack is up (bootstrap: $bootstrap). In your shell:"
  echo "  source $state/env"
  echo "  aws s3 cp party.jpg s3://\$RAW/uploads/      # awscli from PyPI: pip install awscli"
  echo "  curl \$API/people                             # people, with presigned thumbnail URLs"
  echo "Logs: $state/logs/. Stop: scripts/dev-stack.sh down"
  ;;
down)
  stop_all
  echo "The stack is down."
  ;;
status)
  for name in moto rekognition faults runner; do
    if [ -f "$state/$name.pid" ] && kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then echo "$name: running"; else echo "$name: stopped"; fi
  done
  ;;
*)
  echo "usage: $0 up|down|status" >&2
  exit 2
  ;;
esac
