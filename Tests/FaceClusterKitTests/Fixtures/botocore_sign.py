#!/usr/bin/env python3
"""Signs requests with botocore (AWS's own Python SDK) for the property tests: reads a JSON list of
{service, region, method, url, headers, body, amz_date} on stdin, prints the list of Authorization headers."""
import datetime, json, sys
from unittest import mock
import botocore.auth
from botocore.auth import SigV4Auth, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
for r in json.load(sys.stdin):
    creds = Credentials(r["access_key_id"], r["secret_access_key"], r.get("session_token"))
    request = AWSRequest(method=r["method"], url=r["url"], headers=r["headers"], data=r["body"].encode())
    auth = (S3SigV4Auth if r["service"] == "s3" else SigV4Auth)(creds, r["service"], r["region"])
    when = datetime.datetime.strptime(r["amz_date"], "%Y%m%dT%H%M%SZ")
    if hasattr(botocore.auth, "get_current_datetime"):
        clock = mock.patch("botocore.auth.get_current_datetime", return_value=when)
    else:  # older botocore (Debian 12's) reads datetime.datetime.utcnow()
        clock = mock.patch("botocore.auth.datetime")
    with clock as frozen:
        if not hasattr(botocore.auth, "get_current_datetime"):
            frozen.datetime.utcnow.return_value = when
        auth.add_auth(request)
    out.append(request.headers["Authorization"])
print(json.dumps(out))
