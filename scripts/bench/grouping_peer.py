"""The face_recognition peer for scripts/bench-grouping.sh: the same dlib models our local engine uses
(face_recognition 1.3.0 with face_recognition_models 0.3.0 on the dlib-bin wheel), grouping faces the way the
face_recognition README compares them: a face joins the first person one of whose faces it matches
(face_recognition.compare_faces, tolerance 0.6), else it founds a new person; photos in path order.

Detection as the README does it: `face_locations(image)` (HOG, upsampled once, on the photo at full size) and
`face_encodings(image, locations)` (5-point landmarks); `--detection ours` instead upsamples only photos whose
long side is under 1000 px, as our engine does (still at full size). Scored like `facecluster evaluate`: the largest face of each photo carries its
folder's label, BCubed precision/recall/F1; a wrong merge is a person holding faces of two folders.

usage: python3 grouping_peer.py LABELED_DIR [--processes N]   → one JSON line
"""
import json
import os
import sys
import time
from multiprocessing import Pool

import face_recognition
import numpy as np


OURS = "--detection" in sys.argv and sys.argv[sys.argv.index("--detection") + 1] == "ours"


def analyse(path):
    image = face_recognition.load_image_file(path)
    upsample = 1 if not OURS or max(image.shape[0], image.shape[1]) < 1000 else 0
    boxes = face_recognition.face_locations(image, number_of_times_to_upsample=upsample, model="hog")
    encodings = face_recognition.face_encodings(image, boxes, model="small")
    return [(box, encoding) for box, encoding in zip(boxes, encodings)]


def bcubed(items):
    """items: (label, cluster) pairs → precision, recall, F1."""
    by_cluster, by_label = {}, {}
    for label, cluster in items:
        by_cluster.setdefault(cluster, {}).setdefault(label, 0)
        by_cluster[cluster][label] += 1
        by_label[label] = by_label.get(label, 0) + 1
    precision = recall = 0.0
    for members in by_cluster.values():
        size = sum(members.values())
        for label, count in members.items():
            precision += count * count / size
            recall += count * count / by_label[label]
    n = len(items)
    p, r = precision / n, recall / n
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main():
    root = sys.argv[1]
    processes = int(sys.argv[sys.argv.index("--processes") + 1]) if "--processes" in sys.argv else 1
    photos = []
    for label in sorted(os.listdir(root)):
        folder = os.path.join(root, label)
        if not os.path.isdir(folder) or label.startswith("."):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.startswith("."):
                photos.append((label, os.path.join(folder, name)))
    started = time.monotonic()
    with Pool(processes) as pool:
        analysed = pool.map(analyse, [path for _, path in photos])
    people = []  # each a list of encodings
    items = []
    for (label, _), faces in zip(photos, analysed):
        if not faces:
            items.append((label, "alone:" + label + str(len(items))))
            continue
        assigned = []
        for box, encoding in faces:
            found = None
            for number, members in enumerate(people):
                if any(face_recognition.compare_faces(members, encoding, tolerance=0.6)):
                    found = number
                    break
            if found is None:
                people.append([encoding])
                found = len(people) - 1
            else:
                people[found].append(encoding)
            top, right, bottom, left = box
            assigned.append(((bottom - top) * (right - left), found))
        items.append((label, max(assigned)[1]))
    elapsed = time.monotonic() - started
    precision, recall, f1 = bcubed(items)
    mixed = {}
    for label, cluster in items:
        mixed.setdefault(cluster, set()).add(label)
    print(json.dumps({
        "photos": len(photos), "processes": processes, "seconds": elapsed, "photosPerSecond": len(photos) / elapsed,
        "bcubedPrecision": precision, "bcubedRecall": recall, "bcubedF1": f1,
        "wrongMerges": sum(1 for labels in mixed.values() if len(labels) > 1), "people": len(people),
    }))


if __name__ == "__main__":
    main()
