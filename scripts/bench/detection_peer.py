#!/usr/bin/env python3
"""The reference peer for small faces in big photos (scripts/bench-local.sh): face_recognition 1.3.0 on the
dlib-bin wheel, the same HOG detector, as its users call it: face_locations(image) on the photo at full size
(its default: one upsampling). Prints one JSON line: {"peer", "file", "faces", "seconds", "peak_rss_mb"}.
Usage: detection_peer.py PHOTO
"""
import json
import resource
import sys
import time

import face_recognition
from PIL import Image

Image.MAX_IMAGE_PIXELS = None  # the 100 MP photo is ours, not a decompression bomb

started = time.perf_counter()
image = face_recognition.load_image_file(sys.argv[1])
faces = face_recognition.face_locations(image)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peer": "face_recognition 1.3.0", "file": sys.argv[1].rsplit("/", 1)[-1], "faces": len(faces),
                  "seconds": round(seconds, 2), "peak_rss_mb": round(peak, 1)}))
