import FaceClusterKit
import FaceClusterLocal
import Foundation
import Testing

@Suite("Local face engine on real photos", .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"))
struct LocalFaceEngineTests {
    @Test("finds the face in every labeled photo, and distances separate people at 0.6")
    func labeledSet() async throws {
        let engine = try LocalFaceEngine(database: try LocalDatabase.inMemory())
        var embeddings: [(person: String, name: String, vector: [Float])] = []
        for (person, url) in try LabeledSet.photos() {
            let data = try Data(contentsOf: url)
            let result = try await engine.indexFaces(in: ImageInput(data: data), externalImageID: url.lastPathComponent, options: IndexOptions())
            #expect(!result.indexed.isEmpty, "no face found in \(person)/\(url.lastPathComponent)")
            guard let largest = result.indexed.first, let vector = largest.face.embedding else { continue }
            embeddings.append((person, url.lastPathComponent, vector))
        }
        var same: [Double] = [], different: [Double] = []
        for i in embeddings.indices {
            for j in embeddings.indices where j > i {
                let distance = LocalFaceEngine.distance(embeddings[i].vector, embeddings[j].vector)
                if embeddings[i].person == embeddings[j].person { same.append(distance) } else { different.append(distance) }
            }
        }
        print("same person: \(same.count) pairs, max \(same.max() ?? 0); different: \(different.count) pairs, min \(different.min() ?? 0)")
        #expect((same.max() ?? 1) < LocalFaceEngine.matchDistance)
        #expect((different.min() ?? 0) > LocalFaceEngine.matchDistance)
    }
}
