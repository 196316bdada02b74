#!/usr/bin/env python3
"""Writes the hostile and worst-case JPEGs of scripts/bench-hostile.sh into DIR.

Each file is made the way the issue that found it describes (issue 13, "Hostile and damaged JPEGs"):
  lying-9984.jpg         2-3 kB: a baseline header claiming 9,984 x 9,984, then random entropy-coded bytes
  bomb-progressive.jpg   2-3 kB: the same as a progressive 4:4:4 frame (libjpeg allocates ~570 MB of coefficients)
  many-scans-99mp.jpg    a valid progressive 99.7 MP photo with 100 scans (jpegtran's most)
  worst-accepted-52mp.jpg  about the largest progressive photo the default budgets accept: 52 MP 4:2:0, 64 scans
  baseline-100mp.jpg     a valid sequential 99.7 MP photo (decoded at 1/8 scale)
  twelve-bit.jpg         a 12-bit frame header (a JPEG process the 8-bit decoder does not run)
  lossless.jpg           a lossless (SOF3) frame header
  junk-named.jpg         random bytes named like a photo
  crowd-48mp.jpg         a valid 8,000 x 6,000 photo of 585 faces of 100 px (the repo's obama2 fixture, tiled):
                         more faces than a photo indexes (100), each found and most never embedded
Usage: make_hostile_jpegs.py DIR
"""
import io
import os
import random
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = random.Random(13)


def small(progressive=False, subsampling=2):
    image = Image.new("RGB", (64, 64), (120, 140, 160))
    ImageDraw.Draw(image).ellipse((16, 16, 48, 48), fill=(220, 180, 150))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, progressive=progressive, subsampling=subsampling)
    return bytearray(buffer.getvalue())


def claim(data, width, height, frame):
    at = data.index(bytes([0xFF, frame])) + 5  # marker, length (2 bytes), precision, then height and width
    data[at:at + 4] = bytes([height >> 8, height & 0xFF, width >> 8, width & 0xFF])
    return data


def with_random_entropy(data, size):
    sos = data.index(bytes([0xFF, 0xDA]))
    header_end = sos + 2 + (data[sos + 2] << 8 | data[sos + 3])
    noise = bytes(b if b != 0xFF else 0x00 for b in rng.randbytes(size))
    return data[:header_end] + noise + bytes([0xFF, 0xD9])


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


write("lying-9984.jpg", with_random_entropy(claim(small(), 9984, 9984, 0xC0), 2500))
write("bomb-progressive.jpg", with_random_entropy(claim(small(progressive=True, subsampling=0), 9984, 9984, 0xC2), 2000))

twelve = small()
twelve[twelve.index(bytes([0xFF, 0xC0])) + 4] = 12
write("twelve-bit.jpg", twelve)
lossless = small()
lossless[lossless.index(bytes([0xFF, 0xC0])) + 1] = 0xC3
write("lossless.jpg", lossless)
write("junk-named.jpg", rng.randbytes(50_000))


def large(width, height):
    # Smooth content compresses to a small file, as a sky or a wall does; the decoder's work is per pixel.
    image = Image.radial_gradient("L").resize((width, height)).convert("RGB")
    ImageDraw.Draw(image).ellipse((width // 3, height // 3, width // 2, height // 2), fill=(200, 160, 140))
    return image


def save_with_scans(image, path, scans, subsampling):
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "plain.jpg")
        script = os.path.join(tmp, "scans.txt")
        image.save(plain, "JPEG", quality=85, subsampling=subsampling)
        with open(script, "w") as f:
            f.write("\n".join(scans) + "\n")
        made = os.path.join(tmp, "made.jpg")
        subprocess.run(["jpegtran", "-scans", script, "-outfile", made, plain], check=True)
        os.replace(made, path)


if not os.path.exists(os.path.join(out, "many-scans-99mp.jpg")):
    # 100 scans, the most a jpegtran script may have: the DC of each component, each AC coefficient of Y on
    # its own, and the first 16 of Cb and Cr on their own. 100 scans x 99.7 MP is 2.5 x the work budget.
    scans = ([f"{c}: 0 0 0 0;" for c in range(3)] + [f"0: {k} {k} 0 0;" for k in range(1, 64)]
             + [f"{c}: {k} {k} 0 0;" for c in (1, 2) for k in range(1, 17)] + [f"{c}: 17 63 0 0;" for c in (1, 2)])
    save_with_scans(large(9984, 9984), os.path.join(out, "many-scans-99mp.jpg"), scans, subsampling=0)
if not os.path.exists(os.path.join(out, "worst-accepted-52mp.jpg")):
    # 52 MP 4:2:0: 149 MiB of coefficients (budget 160 MiB); 64 scans x 52 MP = 3,341 scan-MP (budget 4,000).
    scans = ["0 1 2: 0 0 0 0;"] + [f"0: {k} {k} 0 0;" for k in range(1, 62)] + ["1: 1 63 0 0;", "2: 1 63 0 0;"]
    save_with_scans(large(9000, 5800), os.path.join(out, "worst-accepted-52mp.jpg"), scans, subsampling=2)
if not os.path.exists(os.path.join(out, "baseline-100mp.jpg")):
    large(9984, 9984).save(os.path.join(out, "baseline-100mp.jpg"), "JPEG", quality=85)
if not os.path.exists(os.path.join(out, "crowd-48mp.jpg")):
    portrait = Image.open(os.path.join(os.path.dirname(__file__), "../../Tests/FaceClusterKitTests/Fixtures/obama2.jpg")).convert("RGB")
    # The fixture's face is 311 px wide in its 626 x 1200 frame: scaled to 100 px faces, 39 x 15 portraits.
    tile = portrait.resize((201, 386), Image.LANCZOS)
    crowd = Image.new("RGB", (8000, 6000), (104, 104, 104))
    for y in range(0, 6000 - 386 + 1, 386):
        for x in range(0, 8000 - 201 + 1, 201):
            crowd.paste(tile, (x, y))
    crowd.save(os.path.join(out, "crowd-48mp.jpg"), "JPEG", quality=90)
