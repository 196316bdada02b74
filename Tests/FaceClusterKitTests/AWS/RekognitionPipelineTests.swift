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

@Suite("Rekognition requests against botocore's model")
struct RekognitionBotocoreTests {
    @Test("every request body the adapters sent to the double validates against botocore's Rekognition model")
    func bodiesValidate() async throws {
        // Exercise every operation the adapters use, then check everything the double has received so far.
        let rekognition = try await RekognitionDouble.client()
        let index = RekognitionFaceIndex(rekognition: rekognition, collectionID: "botocore-\(UUID().uuidString)")
        try await index.createCollection()
        let photo = ImageInput(data: Layout.photo([Identity(1), Identity(2)]).encoded())
        let indexed = try await index.indexFaces(in: photo, externalImageID: "ph_x:0", options: IndexOptions(maxFaces: 10, qualityFilter: .none))
        _ = try await index.searchFaces(matching: indexed.indexed[0].faceID, options: SearchOptions(threshold: 87.5, maxMatches: 3))
        _ = try await index.searchFaces(byImage: photo, options: SearchOptions(threshold: 90))
        _ = try await RekognitionFaceDetector(rekognition: rekognition).detectFaces(in: photo)
        try await index.deleteFaces(indexed.indexed.map(\.faceID))
        let received = await (try await RekognitionDouble.shared.value).state.received
        #expect(Set(received.map(\.operation)).isSuperset(of: ["CreateCollection", "IndexFaces", "SearchFaces", "SearchFacesByImage", "DetectFaces", "DeleteFaces"]))
        let payload = received.map { [$0.operation, String(decoding: $0.body, as: UTF8.self)] }
        let data = try #require(try PythonScript.run("botocore_validate", input: try JSONEncoder().encode(payload)))
        let problems = try JSONDecoder().decode([String].self, from: data)
        #expect(problems.isEmpty, "\(problems)")
        #expect(received.count >= 6)
    }
}
