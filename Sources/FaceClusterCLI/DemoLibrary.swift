import FaceClusterKit
import Foundation

/// A generated photo library: each person has a fixed face descriptor; photos show one to four people,
/// drawn by a seeded generator so every run is the same. Plus three bad files.
struct DemoLibrary {
    let people: Int
    private(set) var files: [(key: String, data: Data)] = []
    private var embeddings: [[Float]] = []
    /// The non-image and the truncated photo fail on purpose.
    let expectedFailures = 2

    static let names = ["ada", "grace", "alan", "edsger", "barbara", "donald", "frances", "ken", "margaret", "dennis"]

    init(people: Int, photos: Int) {
        self.people = people
        var generator = SplitMix64(seed: 2026)
        let dimensions = 128
        embeddings = (0..<people).map { _ in (0..<dimensions).map { _ in Float.random(in: -1...1, using: &generator) } }
        for n in 0..<photos {
            let count = min(people, [1, 1, 2, 2, 3, 4].randomElement(using: &generator)!)
            let who = Array((0..<people).shuffled(using: &generator).prefix(count))
            let faces = who.enumerated().map { slot, person in
                let width = 0.7 / Double(count)
                let box = BoundingBox(left: 0.05 + Double(slot) * (width + 0.05), top: 0.25, width: width, height: width * 1.3)
                let noisy = embeddings[person].map { $0 + Float.random(in: -0.08...0.08, using: &generator) }
                return SyntheticPhoto.Face(box: box, confidence: 99.2, embedding: noisy)
            }
            let photo = SyntheticPhoto(width: 2048, height: 1536, faces: faces)
            files.append((String(format: "photos/%04d.jpg", n), photo.encoded()))
        }
        files.append(("photos/landscape.jpg", SyntheticPhoto(width: 4000, height: 3000).encoded()))
        files.append(("photos/notes.txt", Data("shopping list: film, batteries\n".utf8)))
        files.append(("photos/cut-off.jpg", files[0].data.prefix(48)))
    }

    /// Which generated person a face belongs to (nearest descriptor), to show that grouping found them.
    func identity(of appearance: Appearance?) -> String {
        guard let appearance, let face = try? faceEmbedding(appearance) else { return "?" }
        let best = embeddings.indices.max { InMemoryFaceIndex.similarity(face, embeddings[$0]) < InMemoryFaceIndex.similarity(face, embeddings[$1]) }!
        return best < Self.names.count ? Self.names[best] : "person \(best + 1)"
    }

    private func faceEmbedding(_ appearance: Appearance) throws -> [Float] {
        let key = files.first { PhotoID(PhotoReference(store: "demo-raw", key: $0.key)) == appearance.photoID }?.data
        let photo = try SyntheticPhoto(decoding: key ?? Data())
        return photo.faces.max { $0.box.overlap(with: appearance.boundingBox) < $1.box.overlap(with: appearance.boundingBox) }?.embedding ?? []
    }
}
