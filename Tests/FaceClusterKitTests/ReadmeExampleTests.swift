import FaceClusterKit
import Foundation
import Testing

/// The README's SDK example, verbatim apart from the printing, so the README stays true.
@Suite("README example")
struct ReadmeExampleTests {
    @Test("the SDK example in the README works as it says")
    func readmeExample() async throws {
        let photos = InMemoryPhotoStore(location: "my-raw-bucket")
        let thumbnails = InMemoryPhotoStore(location: "my-processed-bucket")
        let index = InMemoryFaceIndex()
        let metadata = InMemoryMetadataStore()
        let pipeline = IngestionPipeline(
            photos: photos, thumbnails: thumbnails, detector: ScriptedFaceDetector(), index: index,
            metadata: metadata, cropper: SyntheticThumbnailCropper())

        let alice: [Float] = [1, 0, 0, 0], bob: [Float] = [0, 1, 0, 0]
        let party = SyntheticPhoto(width: 1200, height: 900, faces: [
            .init(box: BoundingBox(left: 0.1, top: 0.3, width: 0.2, height: 0.3), embedding: alice),
            .init(box: BoundingBox(left: 0.6, top: 0.3, width: 0.2, height: 0.3), embedding: bob),
        ])
        try await photos.put(party.encoded(), at: "uploads/party.jpg", contentType: "image/jpeg")

        let report = await pipeline.ingest(key: "uploads/party.jpg")
        #expect(report.outcome == .indexed)
        #expect(report.newPeople.count == 2)

        let gallery = Gallery(metadata: metadata, photos: photos, thumbnails: thumbnails, index: index)
        let people = try await gallery.people().items
        #expect(people.count == 2)
        for person in people {
            let url = try await gallery.thumbnailURL(for: person.coverThumbnailKey!, expiresIn: .seconds(900))
            #expect(url.host == "my-processed-bucket")
            #expect(person.photoCount == 1)
        }

        let calls = CallCounter()
        let faults = FaultInjector(seed: 7, rules: [.failOperation("FaceIndex.indexFaces", times: 2), .jitter(upTo: .milliseconds(5))])
        let flakyIndex = index.intercepted(by: faults).intercepted(by: calls)
        let flaky = IngestionPipeline(
            photos: photos, thumbnails: thumbnails, detector: ScriptedFaceDetector(), index: flakyIndex,
            metadata: metadata, cropper: SyntheticThumbnailCropper())
        try await photos.put(party.encoded(), at: "uploads/copy.jpg", contentType: "image/jpeg")
        #expect(await flaky.ingest(key: "uploads/copy.jpg").shouldRetry)
        #expect(await flaky.ingest(key: "uploads/copy.jpg").shouldRetry)
        #expect(await flaky.ingest(key: "uploads/copy.jpg").outcome == .indexed)
        #expect(calls.count(of: "FaceIndex.indexFaces") == 3)
        #expect(calls.count(of: "FaceIndex.searchFaces(matching:)") == 2)
    }
}
