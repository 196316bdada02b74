// The call-plan benchmark: every call plan over the same scripted photos (0 to 8 faces, known and new
// people), against the Rekognition HTTP double answering each request after a fixed latency. Prints the
// Rekognition requests and the billed images per photo, and the wall time per photo, for each plan.
//
//     swift run call-plan-benchmark [latency-ms]      (default 100)
//
// Stores and metadata are in memory (no latency), so the wall time is the Rekognition round trips.

import FaceClusterDoubles
import FaceClusterKit
import Foundation

let latencyMilliseconds = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 100

/// One photo of the set: who is in it, and which of them the collection has seen before.
struct ScriptedPhoto {
    var name: String
    var people: [Int]
    var variant: Int
}

/// 12 photos, 0 to 8 faces; 27 people, each a distinct direction in embedding space.
let set: [ScriptedPhoto] = [
    ScriptedPhoto(name: "8 new", people: Array(0..<8), variant: 0),
    ScriptedPhoto(name: "8 known", people: Array(0..<8), variant: 1),
    ScriptedPhoto(name: "no face", people: [], variant: 0),
    ScriptedPhoto(name: "1 new", people: [8], variant: 0),
    ScriptedPhoto(name: "1 known 1 new", people: [0, 9], variant: 2),
    ScriptedPhoto(name: "2 known 1 new", people: [1, 2, 10], variant: 2),
    ScriptedPhoto(name: "4 new", people: [11, 12, 13, 14], variant: 0),
    ScriptedPhoto(name: "2 known 3 new", people: [3, 4, 15, 16, 17], variant: 2),
    ScriptedPhoto(name: "6 known", people: [5, 6, 7, 8, 9, 10], variant: 3),
    ScriptedPhoto(name: "2 known 5 new", people: [11, 12, 18, 19, 20, 21, 22], variant: 3),
    ScriptedPhoto(name: "4 known 4 new", people: [13, 14, 15, 16, 23, 24, 25, 26], variant: 4),
    ScriptedPhoto(name: "1 known", people: [0], variant: 5),
]

func embedding(_ person: Int, variant: Int) -> [Float] {
    var vector = [Float](repeating: 0, count: 64)
    vector[person] = 1
    vector[32 + (person + variant) % 32] += Float(variant % 7) * 0.01
    return vector
}

func photo(_ scripted: ScriptedPhoto) -> SyntheticPhoto {
    let slots = max(scripted.people.count, 2)
    let width = 0.8 / Double(slots)
    return SyntheticPhoto(width: 1600, height: 1200, faces: scripted.people.enumerated().map { slot, person in
        SyntheticPhoto.Face(
            box: BoundingBox(left: 0.1 + Double(slot) * width, top: 0.3, width: width * 0.8, height: 0.3),
            embedding: embedding(person, variant: scripted.variant))
    })
}

/// Billed per image (Rekognition pricing group 1, and group 2 for DetectFaces). SearchUsers and AssociateFaces
/// are counted as billed: AWS's pricing page lists the user operations among the billed face APIs.
let billedOperations: Set<String> = ["IndexFaces", "SearchFaces", "SearchFacesByImage", "DetectFaces", "SearchUsers", "AssociateFaces"]

struct PlanRun {
    var label: String
    var plan: CallPlan
    var recheck: Bool
}

struct PhotoFigures {
    var faces: Int
    var operations: [String: Int]
    var billed: Int { operations.filter { billedOperations.contains($0.key) }.values.reduce(0, +) }
    var requests: Int { operations.values.reduce(0, +) }
    var wall: Duration
}

let runs = [
    PlanRun(label: "indexed (default)", plan: .indexed, recheck: true),
    PlanRun(label: "seed, reference calls (no re-check)", plan: .seed, recheck: false),
    PlanRun(label: "seed with re-check (our default for seed)", plan: .seed, recheck: true),
    PlanRun(label: "users", plan: .users, recheck: true),
]

let double = try await RekognitionDouble.start(latency: .milliseconds(latencyMilliseconds))
let rekognition = double.client()
let known = set.reduce(into: (seen: Set<Int>(), known: 0, new: 0)) { tally, photo in
    for person in photo.people {
        if tally.seen.insert(person).inserted { tally.new += 1 } else { tally.known += 1 }
    }
}
print("Call-plan benchmark: \(set.count) photos, \(known.known + known.new) faces (\(known.known) of people seen before, \(known.new) new), 0 to 8 faces a photo")
print("Rekognition: the in-process HTTP double, \(latencyMilliseconds) ms per request; stores and metadata in memory; photos one at a time.")
print("Billed = images billed by Rekognition (IndexFaces, SearchFaces, SearchFacesByImage, SearchUsers, AssociateFaces; DetectFaces in group 2).")

var summaries: [(String, [PhotoFigures])] = []
for run in runs {
    let collection = "bench-\(run.plan)-\(UUID().uuidString.prefix(8))"
    let index = RekognitionFaceIndex(rekognition: rekognition, collectionID: collection)
    try await index.createCollection()
    let photos = InMemoryPhotoStore(location: "raw")
    var configuration = IngestionPipeline.Configuration(callPlan: run.plan)
    configuration.seedPlanRechecksNewFaces = run.recheck
    let pipeline = IngestionPipeline(
        photos: photos, thumbnails: InMemoryPhotoStore(location: "processed"),
        detector: RekognitionFaceDetector(rekognition: rekognition), index: index, metadata: InMemoryMetadataStore(),
        cropper: SyntheticThumbnailCropper(), configuration: configuration)

    print("\n\(run.label)")
    print("  photo           faces  requests  billed  1+N?  wall ms  round trips")
    var figures: [PhotoFigures] = []
    for (number, scripted) in set.enumerated() {
        let key = "photos/\(number).jpg"
        try await photos.put(photo(scripted).encoded(), at: key, contentType: "image/jpeg")
        let before = await double.state.received.count
        let started = ContinuousClock.now
        let report = await pipeline.ingest(key: key)
        let wall = ContinuousClock.now - started
        guard report.outcome == .indexed || report.outcome == .noFaces else {
            print("  \(scripted.name): \(report.outcome)")
            continue
        }
        let received = await double.state.received.dropFirst(before)
        let operations = Dictionary(received.map { ($0.operation, 1) }, uniquingKeysWith: +)
        let photoFigures = PhotoFigures(faces: scripted.people.count, operations: operations, wall: wall)
        figures.append(photoFigures)
        let milliseconds = Double(wall.components.attoseconds) / 1e15 + Double(wall.components.seconds) * 1000
        print(
            "  " + scripted.name.padding(toLength: 15, withPad: " ", startingAt: 0)
                + String(format: "  %5d  %8d  %6d  %4@  %7.0f  %11.1f", photoFigures.faces, photoFigures.requests, photoFigures.billed,
                         photoFigures.billed == 1 + photoFigures.faces ? "yes" : "no", milliseconds, milliseconds / Double(latencyMilliseconds)))
    }
    summaries.append((run.label, figures))
}

print("\nSummary per plan (\(set.count) photos, \(known.known + known.new) faces)")
print("  plan                                       billed/photo  requests/photo  wall ms/photo  8 new: billed, round trips  8 known: billed, round trips")
for (label, figures) in summaries {
    let count = Double(figures.count)
    let billed = Double(figures.map(\.billed).reduce(0, +)) / count
    let requests = Double(figures.map(\.requests).reduce(0, +)) / count
    func ms(_ duration: Duration) -> Double { Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000 }
    let wall = figures.map { ms($0.wall) }.reduce(0, +) / count
    let new8 = figures[0], known8 = figures[1]
    print(
        "  " + label.padding(toLength: 41, withPad: " ", startingAt: 0)
            + String(format: "  %12.2f  %14.2f  %13.0f  %10d, %5.1f           %10d, %5.1f", billed, requests, wall,
                     new8.billed, ms(new8.wall) / Double(latencyMilliseconds), known8.billed, ms(known8.wall) / Double(latencyMilliseconds)))
}
