#!/usr/bin/env python3
"""The serverless backend on one machine (scripts/dev-stack.sh), as a user meets it:
  1. a photo uploaded with boto3 to s3://RAW/uploads/ ends as a person through the API, whose presigned
     thumbnail URL opens as a JPEG;
  2. the labeled photos uploaded through the stack and ingested by `facecluster ingest` give the same people
     (the partition of photos, read through the same HTTP API: the Lambda's behind the local API Gateway, and
     `facecluster serve`'s).
usage: stack_test.py STACK_ENV_FILE LABELED_DIR LOCAL_API_URL
"""
import json
import os
import sys
import time
import urllib.request

import boto3

env_file, labeled, local_api = sys.argv[1], sys.argv[2], sys.argv[3].rstrip("/")
settings = {}
for line in open(env_file):
    for pair in line.replace("export ", "").split():
        name, _, value = pair.partition("=")
        settings[name] = value
api, raw = settings["API"], settings["RAW"]
s3 = boto3.client("s3", endpoint_url=settings["AWS_ENDPOINT_URL"], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
failures = 0


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=30) as response:
        return json.load(response)


def listing(base, path, key):
    items, cursor = [], None
    while True:
        page = get(base, path + ("&" if "?" in path else "?") + "limit=100" + (f"&cursor={cursor}" if cursor else ""))
        items += page[key]
        cursor = page.get("nextCursor")
        if not cursor:
            return items


def partition(base):
    """The people as sets of photo names, and the number of photos that did not end indexed."""
    names = {photo["id"]: photo["name"] for status in ("indexed", "no_faces") for photo in listing(base, f"/photos?status={status}", "photos")}
    groups = set()
    for person in listing(base, "/people", "people"):
        groups.add(frozenset(names[p["photoId"]] for p in listing(base, f"/people/{person['id']}/photos", "photos")))
    unfinished = sum(len(listing(base, f"/photos?status={status}", "photos")) for status in ("pending", "processing"))
    return groups, unfinished


def wait_until_done(base, expected, timeout=900):
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = sum(len(listing(base, f"/photos?status={status}", "photos")) for status in ("indexed", "no_faces", "failed"))
        if done >= expected:
            return True
        time.sleep(2)
    return False


def check(name):
    def run(function):
        global failures
        try:
            function()
            print(f"ok   {name}", flush=True)
        except Exception as error:  # noqa: BLE001 - each check reports, then the next runs
            failures += 1
            print(f"FAIL {name}: {error}", flush=True)
        return function
    return run


@check("a photo uploaded with boto3 becomes a person through the API; its presigned thumbnail opens")
def one_photo():
    # Two photos of one man: with MINIMUM_FACES_PER_PERSON=2 a person is listed from two faces on.
    folder = os.path.join(labeled, "John_Salley")
    for name in sorted(os.listdir(folder))[:2]:
        s3.upload_file(os.path.join(folder, name), raw, f"uploads/first/{name}")
    assert wait_until_done(api, 2, timeout=300), "the photos did not finish within 5 minutes"
    people = listing(api, "/people", "people")
    assert len(people) == 1 and people[0]["photoCount"] == 2, people
    with urllib.request.urlopen(people[0]["coverThumbnailUrl"], timeout=30) as response:
        body = response.read()
    assert response.status == 200 and body[:2] == b"\xff\xd8", "the thumbnail URL does not open as a JPEG"
    groups, _ = partition(api)
    assert groups == {frozenset(sorted(os.listdir(folder))[:2])}, groups


@check("the labeled photos through the stack and through facecluster ingest: the same people")
def same_partition():
    # The first check's photos are deleted through the API first, so the stack holds exactly the labeled set.
    for photo in listing(api, "/photos?status=indexed", "photos"):
        request = urllib.request.Request(f"{api}/photos/{photo['id']}", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()
    assert listing(api, "/people", "people") == [], "deleting a person's photos leaves no person"
    names = {}
    for person in sorted(os.listdir(labeled)):
        for name in sorted(os.listdir(os.path.join(labeled, person))):
            assert name not in names, f"two labeled photos named {name}: the comparison goes by name"
            names[name] = person
            s3.upload_file(os.path.join(labeled, person, name), raw, f"uploads/{person}/{name}")
    assert wait_until_done(api, len(names)), "the stack did not finish the labeled photos within 15 minutes"
    stack_groups, stack_unfinished = partition(api)
    local_groups, local_unfinished = partition(local_api)
    assert stack_unfinished == 0 and local_unfinished == 0
    only_stack = sorted(sorted(g) for g in stack_groups - local_groups)
    only_local = sorted(sorted(g) for g in local_groups - stack_groups)
    print(f"     {len(stack_groups)} people through the stack, {len(local_groups)} through facecluster ingest")
    assert not only_stack and not only_local, f"only through the stack: {only_stack}; only through ingest: {only_local}"


print("all stack checks passed" if failures == 0 else f"{failures} failed")
sys.exit(1 if failures else 0)
