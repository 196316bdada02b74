#!/usr/bin/env python3
"""moto_server serving one request at a time. moto's backends do not lock across a conditional write's check and
apply, so the threaded moto_server lets two concurrent conditional writes (or transactions) both pass their
conditions — a lost update DynamoDB itself never allows. Serialising requests keeps moto faithful for the
concurrency tests. Usage: moto_serve.py PORT (INITIAL_NO_AUTH_ACTION_COUNT is honoured as by moto_server)."""
import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

app = DomainDispatcherApplication(create_backend_app)
run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=False, use_reloader=False)
