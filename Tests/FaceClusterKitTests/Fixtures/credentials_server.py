#!/usr/bin/env python3
"""A stand-in for the container credentials endpoint: serves a credentials document on 127.0.0.1 to requests
whose Authorization header matches argv[1]; writes its port to the file argv[2]; serves until its standard
input closes (so it ends with the test even when a launcher such as a pyenv shim stands between them)."""
import http.server, json, os, socketserver, sys, threading

TOKEN = sys.argv[1]

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Authorization") != TOKEN or self.path != "/v2/credentials":
            self.send_response(403); self.end_headers(); return
        body = json.dumps({"AccessKeyId": "ASIALOCALHTTP", "SecretAccessKey": "s3cr3t", "Token": "session",
                           "Expiration": "2030-01-01T00:00:00Z"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass

with socketserver.TCPServer(("127.0.0.1", 0), Handler) as server:
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()
