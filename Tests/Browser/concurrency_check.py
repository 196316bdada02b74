"""Many clients at once: 64 concurrent requests to each read route the gallery uses most, each with a 15 s
timeout. Guards against the server ceasing to answer under concurrency (it once did at 8 concurrent reads:
the database's reader pool blocked Swift's cooperative threads). usage: concurrency_check.py BASE_URL"""
import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

base = sys.argv[1].rstrip("/") + "/api"
person = json.load(urllib.request.urlopen(base + "/people?limit=1", timeout=15))["people"][0]["id"]
photo = json.load(urllib.request.urlopen(f"{base}/people/{person}/photos?limit=1", timeout=15))["photos"][0]["photoId"]


def fetch(path):
    with urllib.request.urlopen(base + path, timeout=15) as response:
        response.read()
        return response.status


failures = 0
for path in ["/people?limit=50", f"/people/{person}/photos", f"/photos/{photo}", "/photos?status=failed", "/faces/unassigned"]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=64) as pool:
        futures = [pool.submit(fetch, path) for _ in range(64)]
        statuses = []
        for future in futures:
            try:
                statuses.append(future.result())
            except Exception as error:  # noqa: BLE001 - a timeout or a refused connection is the failure reported
                statuses.append(repr(error))
    ok = statuses.count(200)
    print(f"{'ok  ' if ok == 64 else 'FAIL'} 64 concurrent GET {path}: {ok} answered 200 in {time.perf_counter() - started:.2f} s")
    failures += ok != 64
sys.exit(failures)
