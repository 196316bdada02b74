#!/usr/bin/env python3
"""The local Lambda runner: what Lambda, its SQS event source mapping and API Gateway do for the packaged
`bootstrap`, on one machine.

- **Functions**: each instance of a function is a `bootstrap` process with the template's environment and its own
  Runtime API (`/2018-06-01/runtime/invocation/next`, `…/response`, `…/error`, `/runtime/init/error`) on a
  loopback port. An invocation that outlives the function's Timeout kills its process ("Task timed out"); a
  process that exits mid-invocation fails it ("Runtime.ExitError"); either way a new process starts (a cold start).
- **Event source mapping** (SQS → ingest): long-polls the queue for batches of BatchSize, at most
  MaximumConcurrency batches at once; with ReportBatchItemFailures, deletes the messages the function did not
  list in `batchItemFailures`; on a function error deletes none. Messages not deleted come back after the
  queue's visibility timeout; after maxReceiveCount receives, moto's redrive moves them to the dead-letter queue.
- **API Gateway (HTTP API, payload 2.0)**: every HTTP request on the API port whose method and path match one of
  the template's RouteKeys becomes an API Gateway v2 event for the api function (others: 404
  `{"message":"Not Found"}`, as API Gateway answers); the function's answer becomes the HTTP response. No
  authorizer runs locally.

Chaos options (scripts/chaos.sh): --duplicate-events delivers each S3 event 1–3 times; --kill N kills an
ingest process mid-invocation N times at random.

usage: runner.py STACK.json BOOTSTRAP --api-port P --env KEY=VALUE… [--ingest-instances N]
"""
import argparse
import base64
import http.server
import json
import os
import random
import re
import signal
import socketserver
import subprocess
import sys
import threading
import time
import traceback
import uuid
from concurrent.futures import Future
from queue import Empty, Queue

import boto3

LOG_LOCK = threading.Lock()


def log(message):
    with LOG_LOCK:
        print(time.strftime("%H:%M:%S"), message, flush=True)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Instance:
    """One sandbox: a bootstrap process and the Runtime API it polls."""

    def __init__(self, function, number):
        self.function, self.number = function, number
        self.pending = Queue()            # invocations handed to this instance
        self.current = None               # (request id, Future) being run
        self.process = None
        self.generation = 0
        self.lock = threading.Lock()
        instance = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != "/2018-06-01/runtime/invocation/next":
                    return self.reply(404)
                generation = instance.generation
                while True:
                    try:
                        item = instance.pending.get(timeout=1)
                        break
                    except Empty:
                        # The process that asked has exited (a new one asks on its own connection).
                        if instance.generation != generation or instance.process.poll() is not None:
                            return
                request_id, event, future, deadline = item
                if instance.generation != generation:
                    instance.pending.put(item)
                    return
                with instance.lock:
                    instance.current = (request_id, future)
                try:
                    self.send_invocation(request_id, event, deadline)
                except OSError:
                    with instance.lock:
                        instance.current = None
                    instance.pending.put(item)

            def send_invocation(self, request_id, event, deadline):
                self.reply(200, event, [
                    ("Lambda-Runtime-Aws-Request-Id", request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(int(deadline * 1000))),
                    ("Lambda-Runtime-Invoked-Function-Arn", f"arn:aws:lambda:us-east-1:000000000000:function:{instance.function.name}"),
                    ("Lambda-Runtime-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"),
                    ("Content-Type", "application/json"),
                ])

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                match = re.fullmatch(r"/2018-06-01/runtime/invocation/([^/]+)/(response|error)", self.path)
                if match:
                    instance.finish(match.group(1), match.group(2) == "response", body)
                    return self.reply(202, b'{"status":"OK"}')
                if self.path == "/2018-06-01/runtime/init/error":
                    log(f"{instance.function.name}#{instance.number} init error: {body.decode(errors='replace')}")
                    return self.reply(202, b'{"status":"OK"}')
                self.reply(404)

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.start()
        threading.Thread(target=self.supervise, daemon=True).start()

    def start(self):
        environment = dict(self.function.environment)
        environment.update({
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.server.server_address[1]}", "_HANDLER": self.function.handler,
            "AWS_LAMBDA_FUNCTION_NAME": self.function.name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.function.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{self.number}",
        })
        log_file = open(os.path.join(self.function.logs, f"{self.function.name}-{self.number}.log"), "ab")
        self.generation += 1
        self.process = subprocess.Popen([self.function.bootstrap], env=environment, stdout=log_file, stderr=subprocess.STDOUT)

    def supervise(self):
        while not self.function.runner.stopping:
            status = self.process.wait()
            if self.function.runner.stopping:
                return
            with self.lock:
                current, self.current = self.current, None
            if current:
                current[1].set_result((False, json.dumps({"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {current[0]} Error: Runtime exited with status {status}"}).encode()))
            log(f"{self.function.name}#{self.number} exited ({status}); starting a new one")
            self.function.runner.counts["restarts"] += 1
            time.sleep(0.2)
            self.start()

    def finish(self, request_id, succeeded, body):
        with self.lock:
            if not self.current or self.current[0] != request_id:
                return
            _, future = self.current
            self.current = None
        if not future.done():
            future.set_result((succeeded, body))

    def invoke(self, event_bytes):
        request_id = str(uuid.uuid4())
        future = Future()
        deadline = time.time() + self.function.timeout
        self.pending.put((request_id, event_bytes, future, deadline))
        try:
            return future.result(timeout=self.function.timeout + 1)
        except Exception:  # noqa: BLE001 - a timed-out invocation: Lambda stops the sandbox
            log(f"{self.function.name}#{self.number}: task timed out after {self.function.timeout} s; stopping the sandbox")
            self.kill()
            return False, json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out"}).encode()

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)

    def busy(self):
        with self.lock:
            return self.current is not None


class Function:
    def __init__(self, runner, name, spec, bootstrap, environment, instances, logs, overrides):
        self.runner, self.name, self.bootstrap, self.logs = runner, name, bootstrap, logs
        self.handler, self.timeout, self.memory = spec["handler"], spec["timeout"], spec["memory"]
        self.environment = {**environment, **spec["environment"], **overrides}
        self.idle = Queue()
        self.instances = [Instance(self, number) for number in range(instances)]
        for instance in self.instances:
            self.idle.put(instance)

    def invoke(self, event):
        instance = self.idle.get()
        try:
            return instance.invoke(json.dumps(event).encode())
        finally:
            self.idle.put(instance)


class Runner:
    def __init__(self, args):
        self.stopping = False
        self.counts = {"invocations": 0, "restarts": 0, "duplicates": 0, "killed": 0, "deleted": 0}
        with open(args.stack) as file:
            self.stack = json.load(file)
        environment = dict(item.split("=", 1) for item in args.env)
        os.makedirs(args.logs, exist_ok=True)
        self.functions = {}
        for name, spec in self.stack["functions"].items():
            if spec["handler"] == "repair":
                continue   # the scheduled repair function is not run locally
            count = args.ingest_instances if spec["handler"] == "ingest" else args.api_instances
            overrides = dict(item.split("=", 1) for item in args.ingest_env) if spec["handler"] == "ingest" else {}
            if spec["handler"] == "ingest" and args.ingest_timeout:
                spec = {**spec, "timeout": args.ingest_timeout}
            self.functions[name] = Function(self, name, spec, args.bootstrap, environment, count, args.logs, overrides)
        self.sqs = boto3.client("sqs", endpoint_url=args.moto, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        # As Lambda refuses an event source mapping whose queue would show a message again while the function
        # may still be running it.
        for mapping in self.stack["eventSourceMappings"]:
            visibility = int(self.sqs.get_queue_attributes(QueueUrl=mapping["queueUrl"], AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"])
            timeout = self.functions[mapping["function"]].timeout
            if visibility < timeout:
                sys.exit(f"Queue visibility timeout: {visibility} seconds is less than Function timeout: {timeout} seconds")
        self.duplicate_events = args.duplicate_events
        self.kills_left = args.kill

    # ---- the event source mapping

    def poll(self, mapping):
        function = self.functions[mapping["function"]]
        slots = threading.Semaphore(min(mapping["maximumConcurrency"], len(function.instances)))
        while not self.stopping:
            slots.acquire()
            try:
                # Short polls: moto_serve.py answers one request at a time, so a long poll would stall every
                # other call to it (Lambda long-polls; the difference is only how soon an idle queue is read).
                received = self.sqs.receive_message(
                    QueueUrl=mapping["queueUrl"], MaxNumberOfMessages=min(mapping["batchSize"], 10), WaitTimeSeconds=0,
                    AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            except Exception as error:  # noqa: BLE001 - moto restarting; try again
                log(f"receive failed: {error}")
                received = []
            if not received:
                slots.release()
                time.sleep(0.25)
                continue
            threading.Thread(target=self.deliver, args=(mapping, function, received, slots), daemon=True).start()

    def deliver(self, mapping, function, messages, slots):
        try:
            if self.duplicate_events:
                # An S3 event's first receipt sends 0–2 copies (marked, so copies are not copied again).
                for message in messages:
                    first = message["Attributes"].get("ApproximateReceiveCount") == "1" and "chaos-copy" not in message.get("MessageAttributes", {})
                    if first and '"Records"' in message["Body"]:
                        for _ in range(random.randint(0, 2)):
                            self.sqs.send_message(
                                QueueUrl=mapping["queueUrl"], MessageBody=message["Body"], DelaySeconds=random.randint(0, 5),
                                MessageAttributes={"chaos-copy": {"DataType": "String", "StringValue": "1"}})
                            self.counts["duplicates"] += 1
            event = {"Records": [{
                "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": mapping["queueArn"], "awsRegion": "us-east-1",
            } for m in messages]}
            self.counts["invocations"] += 1
            succeeded, body = function.invoke(event)
            if not succeeded:
                log(f"{function.name}: batch of {len(messages)} failed: {body[:300].decode(errors='replace')}")
                return
            failed = set()
            if mapping["reportBatchItemFailures"]:
                try:
                    answer = json.loads(body or b"{}") or {}
                    failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
                except (ValueError, TypeError, KeyError):
                    log(f"{function.name}: an answer that is not a batch response; the whole batch is retried")
                    return
            done = [m for m in messages if m["MessageId"] not in failed]
            for start in range(0, len(done), 10):
                self.sqs.delete_message_batch(QueueUrl=mapping["queueUrl"], Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])])
            self.counts["deleted"] += len(done)
            if failed:
                log(f"{function.name}: {len(failed)} of {len(messages)} messages reported failed; they come back after the visibility timeout")
        except Exception:  # noqa: BLE001 - one batch's trouble never stops the mapping
            log("delivery failed:\n" + traceback.format_exc())
        finally:
            slots.release()

    def kill_at_random(self, function):
        """Kills a busy instance of `function` (SIGKILL, mid-invocation) every few seconds, --kill times."""
        while self.kills_left > 0 and not self.stopping:
            time.sleep(random.uniform(1, 4))
            busy = [instance for instance in function.instances if instance.busy()]
            if busy:
                victim = random.choice(busy)
                log(f"chaos: killing {function.name}#{victim.number} mid-invocation")
                self.counts["killed"] += 1
                self.kills_left -= 1
                victim.kill()

    # ---- API Gateway

    def serve_api(self, port):
        runner = self
        api = self.functions[self.stack["api"]["function"]]
        routes = []
        for key in self.stack["api"]["routes"]:
            method, path = key.split(" ", 1)
            routes.append((key, method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")))

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self):
                path, _, query = self.path.partition("?")
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                for key, method, pattern in routes:
                    match = pattern.match(path)
                    if match and method == self.command:
                        break
                else:
                    return self.reply(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
                text_types = ("application/json", "text/")
                binary = bool(body) and not self.headers.get("content-type", "").startswith(text_types)
                parameters = {}
                for pair in query.split("&") if query else []:
                    name, _, value = pair.partition("=")
                    from urllib.parse import unquote_plus
                    parameters.setdefault(unquote_plus(name), []).append(unquote_plus(value))
                now = time.time()
                event = {
                    "version": "2.0", "routeKey": key, "rawPath": path, "rawQueryString": query,
                    "headers": {name.lower(): value for name, value in self.headers.items()},
                    "queryStringParameters": {name: ",".join(values) for name, values in parameters.items()} or None,
                    "pathParameters": match.groupdict() or None,
                    "requestContext": {
                        "accountId": "000000000000", "apiId": "local", "domainName": self.headers.get("host", "localhost"),
                        "http": {"method": self.command, "path": path, "protocol": "HTTP/1.1", "sourceIp": self.client_address[0],
                                 "userAgent": self.headers.get("user-agent", "")},
                        "requestId": str(uuid.uuid4()), "routeKey": key, "stage": "$default",
                        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
                    },
                    "body": (base64.b64encode(body).decode() if binary else body.decode(errors="replace")) if body else None,
                    "isBase64Encoded": binary,
                }
                event = {k: v for k, v in event.items() if v is not None}
                succeeded, answer = api.invoke(event)
                if not succeeded:
                    return self.reply(500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}')
                try:
                    response = json.loads(answer)
                    payload = response.get("body") or ""
                    payload = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
                    self.reply(int(response.get("statusCode", 200)), response.get("headers") or {}, payload)
                except (ValueError, TypeError, AttributeError):
                    self.reply(500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}')

            def reply(self, status, headers, body):
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        server = Server(("127.0.0.1", port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server.server_address[1]

    def stop(self, *_):
        self.stopping = True
        for function in self.functions.values():
            for instance in function.instances:
                if instance.process and instance.process.poll() is None:
                    instance.process.terminate()
        for function in self.functions.values():
            for instance in function.instances:
                try:
                    instance.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    instance.kill()
        log(f"stopped: {json.dumps(self.counts)}")
        sys.exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("stack")
    parser.add_argument("bootstrap")
    parser.add_argument("--moto", required=True)
    parser.add_argument("--api-port", type=int, default=0)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--ingest-env", action="append", default=[], help="KEY=VALUE for the ingest function only (the fault proxy)")
    parser.add_argument("--ingest-instances", type=int, default=2)
    parser.add_argument("--api-instances", type=int, default=2)
    parser.add_argument("--ingest-timeout", type=int, default=None, help="the ingest function's Timeout in seconds (default: the template's)")
    parser.add_argument("--logs", default=".build/dev-stack/logs")
    parser.add_argument("--duplicate-events", action="store_true")
    parser.add_argument("--kill", type=int, default=0)
    parser.add_argument("--ready-file")
    args = parser.parse_args()
    runner = Runner(args)
    signal.signal(signal.SIGTERM, runner.stop)
    signal.signal(signal.SIGINT, runner.stop)
    port = runner.serve_api(args.api_port)
    for mapping in runner.stack["eventSourceMappings"]:
        threading.Thread(target=runner.poll, args=(mapping,), daemon=True).start()
        if args.kill:
            threading.Thread(target=runner.kill_at_random, args=(runner.functions[mapping["function"]],), daemon=True).start()
    log(f"API Gateway on http://127.0.0.1:{port}; functions: "
        + ", ".join(f"{name} ×{len(f.instances)}" for name, f in runner.functions.items()))
    if args.ready_file:
        with open(args.ready_file, "w") as file:
            json.dump({"api": f"http://127.0.0.1:{port}", "pid": os.getpid()}, file)
    while True:
        time.sleep(2)
        if args.ready_file:
            with open(args.ready_file + ".counts", "w") as file:
                json.dump(runner.counts, file)


if __name__ == "__main__":
    main()
