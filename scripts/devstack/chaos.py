#!/usr/bin/env python3
"""The chaos run behind scripts/chaos.sh: N photos of real faces (distinct bytes) through the local serverless
stack twice — once without faults, once while a share of the ingest function's S3, DynamoDB and Rekognition
calls fail (faults.py), ingest processes are killed mid-batch and every S3 event is delivered up to 3 times —
then what a user would ask: did every photo finish, was anything lost or counted twice, who ended in the
dead-letter queue and why, are the people the same as without faults, and at what speed and cost.

usage: chaos.py N PHOTO_DIR… [--fault-rate 0.1] [--kills 5] [--ingest-timeout 60] [--visibility-timeout 65]
Prints a report; exits 1 when a target is missed (N of N terminal, 0 lost, 0 duplicates, identical people).
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter

import boto3

STATE = os.environ.get("DEV_STACK_DIR", ".build/chaos")


def photos(folders, count):
    """`count` JPEGs of real faces with distinct bytes: the folders' photos, then copies told apart by a comment."""
    found = sorted(os.path.join(root, name) for folder in folders for root, _, names in os.walk(folder)
                   for name in names if name.lower().endswith((".jpg", ".jpeg")))
    chosen = []
    for index in range(count):
        path = found[index % len(found)]
        data = open(path, "rb").read()
        copy = index // len(found)
        if copy:
            comment = f"chaos copy {copy}".encode()
            data = data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[2:]
        person = os.path.basename(os.path.dirname(path))
        chosen.append((f"uploads/{person}/{copy:03d}-{os.path.basename(path)}", data))
    return chosen


def listing(api, path, key):
    items, cursor = [], None
    while True:
        url = f"{api}{path}{'&' if '?' in path else '?'}limit=100" + (f"&cursor={cursor}" if cursor else "")
        with urllib.request.urlopen(url, timeout=60) as response:
            page = json.load(response)
        items += page[key]
        cursor = page.get("nextCursor")
        if not cursor:
            return items


def stack(action, environment):
    subprocess.run(["scripts/dev-stack.sh", action], check=True, env={**os.environ, **environment}, stdout=subprocess.DEVNULL)


def settings():
    values = {}
    for line in open(os.path.join(STATE, "env")):
        for pair in line.replace("export ", "").split():
            name, _, value = pair.partition("=")
            values[name] = value
    return values


def run(label, uploads, environment, timeout, keep_up=False):
    stack("up", environment)
    try:
        config = settings()
        kw = dict(endpoint_url=config["AWS_ENDPOINT_URL"], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        s3, sqs = boto3.client("s3", **kw), boto3.client("sqs", **kw)
        stack_json = json.load(open(os.path.join(STATE, "stack.json")))
        queue = stack_json["eventSourceMappings"][0]["queueUrl"]
        started = time.time()
        for key, data in uploads:
            s3.put_object(Bucket=config["RAW"], Key=key, Body=data)
        api, drained_at = config["API"], None
        while time.time() - started < timeout:
            attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
            waiting = sum(int(attributes[k]) for k in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"))
            if waiting == 0:
                drained_at = drained_at or time.time()
                if time.time() - drained_at > 3:     # still empty 3 s later: nothing left in flight
                    break
            else:
                drained_at = None
            time.sleep(1)
        elapsed = (drained_at or time.time()) - started
        by_status = {status: listing(api, f"/photos?status={status}", "photos") for status in ("indexed", "no_faces", "failed", "pending", "processing")}
        names = {photo["id"]: photo["name"] for photos in by_status.values() for photo in photos}
        people = listing(api, "/people", "people")
        groups, appearances = [], Counter()
        for person in people:
            photos_of = listing(api, f"/people/{person['id']}/photos", "photos")
            groups.append(frozenset(p["photoId"] for p in photos_of))
            appearances.update((p["photoId"], p["face"]["faceId"]) for p in photos_of)
        unassigned = listing(api, "/faces/unassigned", "faces")
        appearances.update((f["photoId"], f["faceId"]) for f in unassigned)
        rekognition = boto3.client("rekognition", endpoint_url=config["AWS_ENDPOINT_URL_REKOGNITION"], region_name="us-east-1",
                                   aws_access_key_id="test", aws_secret_access_key="test")
        indexed_faces, token = Counter(), None
        while True:
            page = rekognition.list_faces(CollectionId=stack_json["collections"][0], MaxResults=1000, **({"NextToken": token} if token else {}))
            indexed_faces.update(face.get("ExternalImageId") for face in page["Faces"])
            token = page.get("NextToken")
            if not token:
                break
        face_counts = {photo["id"]: photo.get("faceCount", 0) for photo in by_status["indexed"]}
        dead = []
        while True:
            messages = sqs.receive_message(QueueUrl=stack_json["deadLetterQueueUrl"], MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
            if not messages:
                break
            for message in messages:
                body = json.loads(message["Body"])
                keys = [r["s3"]["object"]["key"] for r in body.get("Records", [])] or [body.get("Event", "?")]
                dead.append((keys, message["Attributes"].get("ApproximateReceiveCount")))
        # Why each dead letter's photo failed: the last outcome the ingest function logged for its key.
        last_outcome = {}
        for name in sorted(os.listdir(os.path.join(STATE, "logs"))):
            if name.startswith("IngestFunction"):
                for line in open(os.path.join(STATE, "logs", name), errors="replace"):
                    if '"outcome"' in line:
                        try:
                            entry = json.loads(line)
                        except ValueError:
                            continue
                        last_outcome[entry.get("key")] = entry.get("failureMessage") or entry.get("outcome")
        dead = [(keys, receives, "; ".join(str(last_outcome.get(urllib.parse.unquote(k), "never logged")) for k in keys)) for keys, receives in dead]
        calls = json.load(open(os.path.join(STATE, "calls.json"))) if os.path.exists(os.path.join(STATE, "calls.json")) else {}
        counts_file = os.path.join(STATE, "ready.json.counts")
        counts = json.load(open(counts_file)) if os.path.exists(counts_file) else {}
        logs = os.path.join(STATE, "logs")
        failures = Counter()
        for photo in by_status["failed"]:
            failures[(photo.get("failure") or {}).get("code", "?")] += 1
        return {
            "label": label, "elapsed": elapsed, "byStatus": {k: len(v) for k, v in by_status.items()}, "names": names,
            "partition": {frozenset(names.get(p, p) for p in group) for group in groups}, "people": len(people),
            "duplicateAppearances": sum(n - 1 for n in appearances.values() if n > 1),
            "missingAppearances": sum(max(0, face_counts[p] - sum(1 for (q, _) in appearances if q == p)) for p in face_counts),
            "duplicateFaces": sum(max(0, indexed_faces[p] - face_counts.get(p, 0)) for p in indexed_faces),
            "dead": dead, "calls": calls, "counts": counts, "failures": dict(failures),
            "drained": drained_at is not None, "logs": logs,
        }
    finally:
        if not keep_up:
            stack("down", environment)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--kills", type=int, default=5)
    # The ingest function's Timeout, shortened from the template's 120 s, and the queue's visibility just above
    # it (Lambda requires visibility ≥ timeout): a batch whose process was killed comes back after ~1 minute,
    # once the leases of its photos (which last until the invocation's deadline) have run out.
    parser.add_argument("--ingest-timeout", type=int, default=60)
    parser.add_argument("--visibility-timeout", type=int, default=65)
    parser.add_argument("--timeout", type=int, default=3600)
    parser.add_argument("--keep-up", action="store_true", help="leave the chaos run's stack up, to look at it (dev-stack.sh down)")
    args = parser.parse_args()
    uploads = photos(args.folders, args.count)
    common = {"DEV_STACK_DIR": STATE, "VISIBILITY_TIMEOUT": str(args.visibility_timeout), "INGEST_TIMEOUT": str(args.ingest_timeout), "FAULT_RATE": "0"}
    print(f"chaos: {len(uploads)} photos; first without faults, then with {args.fault_rate:.0%} of S3, DynamoDB and Rekognition "
          f"calls failing, {args.kills} ingest processes killed, every S3 event delivered up to 3 times", flush=True)
    calm = run("fault-free", uploads, common, args.timeout)
    stormy = run("chaos", uploads, {**common, "FAULT_RATE": str(args.fault_rate), "KILLS": str(args.kills), "DUPLICATE_EVENTS": "1"}, args.timeout, args.keep_up)

    n = len(uploads)
    terminal = stormy["byStatus"]["indexed"] + stormy["byStatus"]["no_faces"] + stormy["byStatus"]["failed"]
    lost = n - len(stormy["names"]) + stormy["byStatus"]["pending"] + stormy["byStatus"]["processing"]
    same = stormy["partition"] == calm["partition"]
    rekognition_calls = lambda r: sum(v for k, v in r["calls"].items() if k.startswith("rekognition:") and not k.endswith(("faults-before", "faults-after")))
    faults = sum(v for k, v in stormy["calls"].items() if k.endswith(("faults-before", "faults-after")))
    all_calls = sum(v for k, v in stormy["calls"].items() if not k.endswith(("faults-before", "faults-after")))
    print()
    print(f"{'':34}{'fault-free':>12}{'chaos':>12}   target")
    print(f"{'photos with a terminal status':34}{calm['byStatus']['indexed'] + calm['byStatus']['no_faces'] + calm['byStatus']['failed']:>12}{terminal:>12}   {n} of {n}")
    print(f"{'  indexed / no faces / failed':34}{'{indexed}/{no_faces}/{failed}'.format(**calm['byStatus']):>12}{'{indexed}/{no_faces}/{failed}'.format(**stormy['byStatus']):>12}")
    print(f"{'photos lost':34}{n - len(calm['names']):>12}{lost:>12}   0")
    print(f"{'duplicate faces (index)':34}{calm['duplicateFaces']:>12}{stormy['duplicateFaces']:>12}   0")
    print(f"{'duplicate appearances':34}{calm['duplicateAppearances']:>12}{stormy['duplicateAppearances']:>12}   0")
    print(f"{'faces without an appearance':34}{calm['missingAppearances']:>12}{stormy['missingAppearances']:>12}   0")
    print(f"{'people':34}{calm['people']:>12}{stormy['people']:>12}   identical partition: {'yes' if same else 'NO'}")
    print(f"{'dead-letter messages':34}{len(calm['dead']):>12}{len(stormy['dead']):>12}")
    print(f"{'photos/s':34}{n / calm['elapsed']:>12.2f}{n / stormy['elapsed']:>12.2f}")
    print(f"{'Rekognition calls per photo':34}{rekognition_calls(calm) / n:>12.2f}{rekognition_calls(stormy) / n:>12.2f}   (answered calls, retries included)")
    print(f"calls to S3, DynamoDB and Rekognition in the chaos run: {all_calls}, of which {faults} failed by injection "
          f"({faults / max(all_calls, 1):.1%}); runner: {json.dumps(stormy['counts'])}")
    if stormy["failures"]:
        print(f"failed photos in the chaos run, by code: {stormy['failures']}")
    for keys, receives, why in stormy["dead"]:
        print(f"  dead letter after {receives} receives: {', '.join(urllib.parse.unquote(k) for k in keys)} (last outcome: {why})")
    if not same:
        only_chaos = sorted(sorted(g) for g in stormy["partition"] - calm["partition"])
        only_calm = sorted(sorted(g) for g in calm["partition"] - stormy["partition"])
        print(f"  people only in the chaos run: {only_chaos}\n  people only in the fault-free run: {only_calm}")
    missed = terminal != n or lost or stormy["duplicateFaces"] or stormy["duplicateAppearances"] or stormy["missingAppearances"] or not same
    print("all targets met" if not missed else "TARGETS MISSED")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
