#!/usr/bin/env python3
"""Writes the thumbnail benchmark inputs into FOLDER:

large.json  the 17.9 MP progressive Elephants_5640x3172.jpg (Debian mate-backgrounds) with one large face box
group.json  group.jpg: a 2048x1536 (3.1 MP) baseline JPEG with 8 faces of 130-190 px, composed from the
            test fixture portrait over a downscaled crop of the elephants photo
group-dense.json  group-dense.jpg: the same photo at quality 95, 4:4:4, with 8 faces of 90-190 px reaching
            down to the bottom rows: as much entropy-coded data per pixel as a real camera group photo, and no
            rows below the last face to skip (a held-out real 3 MP group photo behaves like this one)
"""
import json, os, sys
from PIL import Image

folder = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
large = os.path.join(folder, "Elephants_5640x3172.jpg")
with open(os.path.join(folder, "large.json"), "w") as f:
    json.dump([{"photo": "Elephants_5640x3172.jpg",
                "boxes": [{"left": 0.40, "top": 0.25, "width": 0.18, "height": 0.32}]}], f)

background = Image.open(large).convert("RGB")
w, h = background.size
side_w = int(h * 4 / 3)
background = background.crop(((w - side_w) // 2, 0, (w - side_w) // 2 + side_w, h)).resize((2048, 1536), Image.LANCZOS)
plain = background.copy()  # the dense photo's faces go onto the background without the group's
portrait = Image.open(os.path.join(here, "..", "..", "Tests", "FaceClusterKitTests", "Fixtures", "obama2.jpg")).convert("RGB")
pw, ph = portrait.size
face = portrait.crop((int(0.32 * pw), int(0.18 * ph), int(0.84 * pw), int(0.18 * ph + 0.52 * pw)))
boxes = []
for n, side in enumerate([130, 140, 150, 160, 170, 180, 185, 190]):
    x, y = 120 + (n % 4) * 470, 260 + (n // 4) * 620
    background.paste(face.resize((side, side), Image.LANCZOS), (x, y))
    boxes.append({"left": x / 2048, "top": y / 1536, "width": side / 2048, "height": side / 1536})
dense, dense_boxes = plain, []
for n, side in enumerate([90, 105, 120, 135, 150, 165, 180, 190]):
    x, y = 120 + (n % 4) * 470, 300 + (n // 4) * 900
    dense.paste(face.resize((side, side), Image.LANCZOS), (x, y))
    dense_boxes.append({"left": x / 2048, "top": y / 1536, "width": side / 2048, "height": side / 1536})
background.save(os.path.join(folder, "group.jpg"), "JPEG", quality=90)
with open(os.path.join(folder, "group.json"), "w") as f:
    json.dump([{"photo": "group.jpg", "boxes": boxes}], f)
dense.save(os.path.join(folder, "group-dense.jpg"), "JPEG", quality=95, subsampling=0)
with open(os.path.join(folder, "group-dense.json"), "w") as f:
    json.dump([{"photo": "group-dense.jpg", "boxes": dense_boxes}], f)
print(f"inputs in {folder}: large.json (1 face, {w}x{h}), group.json and group-dense.json (8 faces, 2048x1536)")
