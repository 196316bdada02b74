@testable import FaceClusterKit
import Foundation
import Testing

@Suite("Pipeline through Rekognition (HTTP double)")
struct RekognitionPipelineTests {
    @Test("both call plans group a library as in memory; the indexed plan makes exactly 1 + N face calls", arguments: CallPlan.allCases)
    func library(plan: CallPlan) async throws {
        let rekognition = try await RekognitionDouble.client()
        let index = RekognitionFaceIndex(rekognition: rekognition, collectionID: "pipeline-\(UUID().uuidString)")
        try await index.createCollection()
        let counter = CallCounter()
        let photos = InMemoryPhotoStore(location: "raw")
        let metadata = InMemoryMetadataStore()
        let pipeline = IngestionPipeline(
            photos: photos, thumbnails: InMemoryPhotoStore(location: "processed"),
            detector: RekognitionFaceDetector(rekognition: rekognition).intercepted(by: counter), index: index.intercepted(by: counter),
            metadata: metadata, cropper: SyntheticThumbnailCropper(), configuration: .init(callPlan: plan))
        let library: [(String, [Int])] = [("1", [1, 2]), ("2", [2, 3]), ("3", [1]), ("4", [4, 1, 3]), ("5", [])]
        var faces = 0
        var photoCount = 0
        for (key, people) in library {
            try await photos.put(Layout.photo(people.map(Identity.init), variant: Int(key)!).encoded(), at: "raw/\(key).jpg", contentType: "image/jpeg")
            let report = await pipeline.ingest(key: "raw/\(key).jpg")
            #expect(report.outcome == (people.isEmpty ? .noFaces : .indexed), "\(key): \(report.outcome)")
            faces += people.count
            photoCount += 1
        }
        let people = try await Page.all { try await metadata.people(page: $0) }
        #expect(people.map(\.photoCount).sorted() == [1, 2, 2, 3])
        if plan == .indexed {
            #expect(counter.count(ofPort: "FaceIndex") == photoCount + faces, "1 IndexFaces per photo + 1 SearchFaces per face")
        }
    }
}
