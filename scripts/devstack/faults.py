#!/usr/bin/env python3
"""A fault-injecting proxy in front of the stack's AWS endpoints, for the functions' calls only.

Each listener forwards to its upstream (moto for S3 and DynamoDB, `facecluster rekognition-server`) and fails a
share of the calls the way the service does under load: half of the failures before the call reaches the
service (throttling: S3 503 SlowDown, DynamoDB 400 ThrottlingException, Rekognition 400
ThrottlingException), half after it did the work (a 500 whose answer is lost: the caller cannot know the call
took effect, which is what idempotency has to survive). It counts calls per service and operation, and writes
the counts to COUNTS.json every second.

usage: faults.py RATE COUNTS.json NAME=LISTEN_PORT=UPSTREAM_URL…
"""
import http.client
import http.server
import json
import random
import socketserver
import sys
import threading
import time
from urllib.parse import urlsplit

counts = {}
lock = threading.Lock()


def count(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def service_of(headers, path):
    target = headers.get("X-Amz-Target", "")
    if target.startswith("DynamoDB_"):
        return "dynamodb", target.split(".")[-1]
    if target.startswith("RekognitionService."):
        return "rekognition", target.split(".")[-1]
    return "s3", None


def fault(service, after):
    if service == "s3":
        code, status = ("InternalError", 500) if after else ("SlowDown", 503)
        body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>injected</Message></Error>'.encode()
        return status, "application/xml", body
    prefix = "com.amazonaws.dynamodb.v20120810#" if service == "dynamodb" else ""
    code, status = ("InternalServerError", 500) if after else ("ThrottlingException", 400)
    content_type = "application/x-amz-json-1.0" if service == "dynamodb" else "application/x-amz-json-1.1"
    return status, content_type, json.dumps({"__type": prefix + code, "message": "injected", "Message": "injected"}).encode()


def listener(name, port, upstream, rate):
    target = urlsplit(upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            service, operation = service_of(self.headers, self.path)
            if service == "s3":
                operation = f"{self.command}"
            count(f"{service}:{operation}")
            roll = random.random()
            if roll < rate / 2:
                count(f"{service}:faults-before")
                return self.answer(*fault(service, after=False))
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
            connection.request(self.command, self.path, body=body if body or self.command in ("PUT", "POST") else None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            if roll < rate:
                count(f"{service}:faults-after")
                return self.answer(*fault(service, after=True))
            self.send_response(response.status)
            for header, value in response.getheaders():
                if header.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                    self.send_header(header, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def answer(self, status, content_type, body):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = forward

    server = Server(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def main():
    rate, out = float(sys.argv[1]), sys.argv[2]
    for spec in sys.argv[3:]:
        name, port, upstream = spec.split("=", 2)
        listener(name, int(port), upstream, rate)
    while True:
        time.sleep(1)
        with lock:
            snapshot = dict(counts)
        with open(out + ".tmp", "w") as file:
            json.dump(snapshot, file)
        import os
        os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
