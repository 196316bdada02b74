// consolidation-benchmark: consolidation on a synthetic face graph of 100,000 faces with k = 10 edges a face
// (Rekognition-style: only the stored graph, no vectors), in memory. Prints the clustering alone on the whole
// graph, a full consolidation from every face its own person, and the consolidation of the components one
// ingest of 100 photos touches; with the process's peak memory.
//
// usage: consolidation-benchmark [faces, default 100000] [edges a face, default 10]
import FaceClusterKit
import Foundation

let arguments = CommandLine.arguments
let faceCount = arguments.count > 1 ? Int(arguments[1]) ?? 100_000 : 100_000
let edgesPerFace = arguments.count > 2 ? Int(arguments[2]) ?? 10 : 10
let facesPerPerson = 10
var generator = SplitMix64(seed: 42)

func peakMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

/// Faces `f<n>`, people of 10; each face's k edges: 7 to faces of its own person (91–99), 3 to random others
/// (80–88, the review band: near misses).
let faces = (0..<faceCount).map { FaceID(rawValue: String(format: "f%07d", $0)) }
var edges: [FaceEdge] = []
edges.reserveCapacity(faceCount * edgesPerFace)
for n in 0..<faceCount {
    let person = n / facesPerPerson
    for j in 0..<edgesPerFace {
        if j < 7 {
            let other = person * facesPerPerson + Int.random(in: 0..<facesPerPerson, using: &generator)
            if other != n, other < faceCount { edges.append(FaceEdge(faces[n], faces[other], similarity: Double.random(in: 91...99, using: &generator))) }
        } else {
            let other = Int.random(in: 0..<faceCount, using: &generator)
            if other / facesPerPerson != person { edges.append(FaceEdge(faces[n], faces[other], similarity: Double.random(in: 80...88, using: &generator))) }
        }
    }
}
print("synthetic graph: \(faceCount) faces in \(faceCount / facesPerPerson) people, \(edges.count) edges (k = \(edgesPerFace) a face)")

// 1. The clustering alone, the whole graph as one input.
let index = Dictionary(uniqueKeysWithValues: faces.enumerated().map { ($1, $0) })
let started = ContinuousClock.now
let clusters = AverageLinkage(threshold: 90).clusters(.init(
    count: faceCount, pairs: edges.map { AverageLinkage.Pair(index[$0.a]!, index[$0.b]!, $0.similarity) }))
let clustering = ContinuousClock.now - started
let wrong = clusters.filter { Set($0.map { $0 / facesPerPerson }).count > 1 }.count
print(String(format: "average linkage, whole graph: %.2f s, %d clusters (%d mixed), peak %.0f MB", seconds(clustering), clusters.count, wrong, peakMegabytes()))

// 2. A full consolidation in the metadata store: every face starts as its own person.
let metadata = InMemoryMetadataStore()
let epoch = Date(timeIntervalSince1970: 1_790_000_000)
for (n, face) in faces.enumerated() {
    let photo = PhotoID(rawValue: "ph_" + String(format: "%026d", n))
    let person = Person(id: .founded(by: face), createdAt: epoch.addingTimeInterval(Double(n)), updatedAt: epoch)
    try await metadata.addAppearance(Appearance(
        faceID: face, personID: person.id, photoID: photo, boundingBox: BoundingBox(left: 0.1, top: 0.1, width: 0.2, height: 0.2),
        thumbnailKey: "people/\(person.id)/\(face).jpg", confidence: 99, photoAddedAt: epoch), newPerson: person)
}
await metadata.recordEdges(edges)
let consolidation = Consolidation(metadata: metadata, source: StoredFaceGraph(metadata: metadata), policy: GroupingPolicy())
let full = try await consolidation.run(touching: faces)
let people = try await Page.all(pageSize: 1000) { try await metadata.people(page: $0) }.count
print(String(format: "consolidation of everything: %.2f s (%d components, %d merges), %d people, peak %.0f MB",
             seconds(full.duration), full.components, full.merges.count, people, peakMegabytes()))

// 3. One ingest of 100 photos: 100 new faces, each with its k edges into the library, founding their own
// people; consolidation of what they touched.
var touched: [FaceID] = []
for n in 0..<100 {
    let face = FaceID(rawValue: String(format: "new%04d", n))
    let target = Int.random(in: 0..<(faceCount / facesPerPerson), using: &generator)
    let person = Person(id: .founded(by: face), createdAt: epoch.addingTimeInterval(Double(faceCount + n)), updatedAt: epoch)
    try await metadata.addAppearance(Appearance(
        faceID: face, personID: person.id, photoID: PhotoID(rawValue: "ph_new" + String(format: "%023d", n)),
        boundingBox: BoundingBox(left: 0.1, top: 0.1, width: 0.2, height: 0.2), thumbnailKey: "people/\(person.id)/\(face).jpg",
        confidence: 99, photoAddedAt: epoch), newPerson: person)
    var own: [FaceEdge] = []
    for j in 0..<edgesPerFace {
        let other = j < 7 ? target * facesPerPerson + Int.random(in: 0..<facesPerPerson, using: &generator) : Int.random(in: 0..<faceCount, using: &generator)
        own.append(FaceEdge(face, faces[other], similarity: j < 7 ? Double.random(in: 91...99, using: &generator) : Double.random(in: 80...88, using: &generator)))
    }
    await metadata.recordEdges(own)
    touched.append(face)
}
let incremental = try await consolidation.run(touching: touched)
print(String(format: "consolidation after one ingest of 100 photos: %.3f s (%d components, %d faces, %d merges), peak %.0f MB",
             seconds(incremental.duration), incremental.components, incremental.faces, incremental.merges.count, peakMegabytes()))
