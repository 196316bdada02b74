#!/usr/bin/env python3
"""The reference peer for scripts/bench-hostile.sh: what the reference design's Pillow does with one file.

Opens FILE, asks for a draft at <= 2 MP (as a thumbnailer would), loads the pixels, and prints one JSON line:
{"peer": "pillow", "file": ..., "result": "decoded WxH" | "<ExceptionType>: message", "seconds": s, "peak_rss_mb": m}.
Pillow's own decompression-bomb check (Image.MAX_IMAGE_PIXELS, 89.5 MP) stays at its default.
Usage: pillow_decode.py FILE
"""
import json
import resource
import sys
import time
import warnings

from PIL import Image

path = sys.argv[1]
started = time.perf_counter()
try:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            scale = max(1, int((image.width * image.height / 2_000_000) ** 0.5))
            image.draft("RGB", (image.width // scale, image.height // scale))
            image.load()
            result = f"decoded {image.width}x{image.height}"
except Exception as error:  # the peer's answer, whatever it is, is the figure
    result = f"{type(error).__name__}: {error}"[:120]
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peer": "pillow", "file": path.rsplit("/", 1)[-1], "result": result, "seconds": round(seconds, 3), "peak_rss_mb": round(peak, 1)}))
