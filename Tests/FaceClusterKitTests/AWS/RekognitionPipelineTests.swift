@testable import FaceClusterKit
import FaceClusterDoubles
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

@Suite("Pipeline through Rekognition: users and S3 objects")
struct RekognitionUsersAndS3Tests {
    @Test("the users plan makes each person a Rekognition user; deleting and forgetting disassociate faces before deleting them")
    func users() async throws {
        let harness = try await Harness.onRekognition(callPlan: .users)
        for (key, people) in [("1", [1, 2]), ("2", [2, 3]), ("3", [1])] {
            try await harness.add(Layout.photo(people.map(Identity.init), variant: Int(key)!), as: "raw/\(key).jpg")
        }
        let people = try await Page.all { try await harness.metadata.people(page: $0) }
        #expect(people.map(\.photoCount).sorted() == [1, 2, 2])
        #expect(await harness.indexedFaceCount() == 5)
        let state = try await RekognitionDouble.shared.value.state
        let index = try #require(harness.index as? RekognitionFaceIndex)
        let collection = try #require(await state.collection(index.collectionID))
        for person in people {
            for appearance in try await Page.all({ try await harness.metadata.appearances(ofPerson: person.id, page: $0) }) {
                #expect(await collection.person(associatedWith: appearance.faceID) == person.id, "every face belongs to its person's user")
            }
        }

        // Photo 2's faces belong to users: Rekognition refuses to delete them until they are disassociated.
        let photo2 = PhotoID(PhotoReference(store: harness.photos.location, key: "raw/2.jpg"))
        try await harness.gallery.deletePhoto(photo2)
        #expect(await harness.indexedFaceCount() == 3)
        // The first person (in photos 1 and 3) is forgotten: their two faces leave the collection.
        let first = try #require(try await Page.all { try await harness.metadata.people(page: $0) }.first { $0.faceCount == 2 })
        _ = try await harness.gallery.forget(first.id)
        #expect(await harness.indexedFaceCount() == 1)
        let operations = await state.received.map(\.operation)
        #expect(operations.contains("DisassociateFaces") && operations.contains("CreateUser") && operations.contains("SearchUsers"))
    }

    @Test("photos in a configured bucket go to Rekognition as S3 objects, never as bytes", .enabled(if: Moto.available))
    func s3Objects() async throws {
        let bucket = try await Moto.freshBucket()
        let double = try await RekognitionDouble.shared.value
        await double.state.register(bucket, as: bucket.location)
        let rekognition = try await RekognitionDouble.client()
        let collection = "s3-\(UUID().uuidString)"
        let index = RekognitionFaceIndex(rekognition: rekognition, collectionID: collection, s3Buckets: [bucket.location])
        try await index.createCollection()
        let metadata = InMemoryMetadataStore()
        for plan in [CallPlan.indexed, .seed] {
            let pipeline = IngestionPipeline(
                photos: bucket, thumbnails: InMemoryPhotoStore(location: "processed"),
                detector: RekognitionFaceDetector(rekognition: rekognition, s3Buckets: [bucket.location]), index: index,
                metadata: metadata, cropper: SyntheticThumbnailCropper(), configuration: .init(callPlan: plan))
            let key = "uploads/\(plan) photo.jpg"
            try await bucket.put(Layout.photo([Identity(1), Identity(2)], variant: plan == .seed ? 2 : 1).encoded(), at: key, contentType: "image/jpeg")
            #expect(await pipeline.ingest(key: key).outcome == .indexed)
        }
        #expect(try await metadata.people(page: PageRequest()).items.map(\.photoCount) == [2, 2])
        // Whole photos went by reference; only the seed plan's face crops (not in any bucket) went as bytes.
        let sent = await double.state.received.filter { String(decoding: $0.body, as: UTF8.self).contains(collection) || $0.operation == "DetectFaces" }
        let wholePhotos = try sent.filter { ["IndexFaces", "DetectFaces"].contains($0.operation) }.map { entry -> Rekognition.Image in
            if entry.operation == "DetectFaces" { return try JSONDecoder().decode(Rekognition.DetectFacesRequest.self, from: entry.body).Image }
            return try JSONDecoder().decode(Rekognition.IndexFacesRequest.self, from: entry.body).Image
        }
        let references = wholePhotos.compactMap(\.S3Object)
        #expect(references.contains { $0.Bucket == bucket.location && $0.Name == "uploads/indexed photo.jpg" })
        #expect(references.contains { $0.Bucket == bucket.location && $0.Name == "uploads/seed photo.jpg" })
    }

    @Test("an S3 object Rekognition cannot read is a permanent photo failure naming S3")
    func unreadableObject() async throws {
        let rekognition = try await RekognitionDouble.client()
        let index = RekognitionFaceIndex(rekognition: rekognition, collectionID: "unreadable-\(UUID().uuidString)", s3Buckets: ["raw"])
        try await index.createCollection()
        let photos = InMemoryPhotoStore(location: "raw")
        try await photos.put(Layout.photo([Identity(1)]).encoded(), at: "a.jpg", contentType: "image/jpeg")
        let pipeline = IngestionPipeline(
            photos: photos, thumbnails: photos, detector: ScriptedFaceDetector(), index: index, metadata: InMemoryMetadataStore(),
            cropper: SyntheticThumbnailCropper())
        let report = await pipeline.ingest(key: "a.jpg")
        guard case .failed(let failure) = report.outcome else { Issue.record("expected a failure, got \(report.outcome)"); return }
        #expect(!failure.retryable && failure.message.contains("S3"), "\(failure)")
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
        try await index.associate([indexed.indexed[0].faceID], with: PersonID(rawValue: "p_botocore"), creatingPerson: true)
        _ = try await index.searchPeople(matching: indexed.indexed[1].faceID, options: SearchOptions(threshold: 90, maxMatches: 5))
        try await index.deleteFaces(indexed.indexed.map(\.faceID))
        let received = await (try await RekognitionDouble.shared.value).state.received
        #expect(Set(received.map(\.operation)).isSuperset(of: [
            "CreateCollection", "IndexFaces", "SearchFaces", "SearchFacesByImage", "DetectFaces", "DeleteFaces",
            "CreateUser", "AssociateFaces", "SearchUsers", "DisassociateFaces",
        ]))
        let payload = received.map { [$0.operation, String(decoding: $0.body, as: UTF8.self)] }
        let data = try #require(try await PythonScript.run("botocore_validate", input: try JSONEncoder().encode(payload)))
        let problems = try JSONDecoder().decode([String].self, from: data)
        #expect(problems.isEmpty, "\(problems)")
        #expect(received.count >= 6)
    }
}
