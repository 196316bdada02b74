import FaceClusterKit
import Foundation
import Testing

@Suite("Ingestion: grouping")
struct IngestionGroupingTests {
    let alice = Identity(1), bob = Identity(2), carol = Identity(3)

    @Test("faces of new people found new people, with thumbnails under people/<personId>/")
    func newPeople() async throws {
        let harness = Harness()
        let report = try await harness.add(Layout.photo([alice, bob]), as: "raw/party.jpg")

        #expect(report.outcome == .indexed)
        #expect(report.faceCount == 2)
        #expect(report.newPeople.count == 2)
        let people = try await harness.gallery.people().items
        #expect(people.count == 2)
        #expect(people.allSatisfy { $0.photoCount == 1 && $0.faceCount == 1 && $0.id.rawValue.hasPrefix("p_") })
        let detail = try await harness.gallery.photo(report.photoID)
        #expect(detail.photo.status == .indexed)
        #expect(detail.photo.width == 1200 && detail.photo.height == 900)
        for face in detail.faces {
            #expect(face.appearance.thumbnailKey == "people/\(face.person.id)/\(face.appearance.faceID).jpg")
            let thumbnail = try await harness.thumbnails.get(face.appearance.thumbnailKey)
            #expect(thumbnail.info.contentType == "image/jpeg")
            #expect(face.person.coverThumbnailKey == face.appearance.thumbnailKey)
        }
    }

    @Test("a known face joins its person; photoCount counts photos")
    func knownFaceJoins() async throws {
        let harness = Harness()
        try await harness.add(Layout.photo([alice, bob]), as: "raw/1.jpg")
        let second = try await harness.add(Layout.photo([alice], variant: 3), as: "raw/2.jpg")

        #expect(second.newPeople.isEmpty)
        #expect(second.matchedPeople.count == 1)
        let people = try await harness.gallery.people().items
        #expect(people.map(\.photoCount) == [2, 1])
        let aliceID = try #require(second.matchedPeople.first)
        let photos = try await harness.gallery.photos(of: aliceID).items
        #expect(photos.map(\.photo.reference.key) == ["raw/2.jpg", "raw/1.jpg"])
        #expect(photos.first?.appearance.similarity ?? 0 >= 90)
    }

    @Test("two faces in one photo are never the same person, even when they look alike")
    func twinsStayApart() async throws {
        let harness = Harness()
        try await harness.add(Layout.photo([alice]), as: "raw/alice.jpg")
        let twins = SyntheticPhoto(width: 1200, height: 900, faces: [
            alice.face(Layout.box(0), variant: 1), alice.face(Layout.box(1), variant: 2),
        ])
        let report = try await harness.add(twins, as: "raw/twins.jpg")

        #expect(report.faceCount == 2)
        #expect(Set(report.matchedPeople + report.newPeople).count == 2)
        let people = try await harness.gallery.people().items
        #expect(people.count == 2)
        #expect(people.map(\.photoCount).sorted() == [1, 2])
    }

    @Test("a photo with no face is recorded as noFaces")
    func noFaces() async throws {
        let harness = Harness()
        let report = try await harness.add(SyntheticPhoto(width: 800, height: 600), as: "raw/landscape.jpg")
        #expect(report.outcome == .noFaces)
        #expect(try await harness.metadata.photo(report.photoID)?.status == .noFaces)
        #expect(try await harness.gallery.people().items.isEmpty)
    }

    @Test("a photo with 100 faces groups all 100; faces beyond 100 are recorded as skipped")
    func crowds() async throws {
        let harness = Harness()
        let hundred = try await harness.add(Layout.crowd(100), as: "raw/100.jpg")
        #expect(hundred.outcome == .indexed)
        #expect(hundred.faceCount == 100)
        #expect(try await harness.snapshot().groups.count == 80 + 20)

        let more = try await harness.add(Layout.crowd(120), as: "raw/120.jpg")
        #expect(more.faceCount == 100)
        #expect(more.skippedFaceCount == 20)
        let photo = try #require(try await harness.metadata.photo(more.photoID))
        #expect(photo.skippedFaces.count == 20)
        #expect(photo.skippedFaces.allSatisfy { $0.reason == .exceedsMaxFaces })
    }

    @Test("faces under the size or confidence floor are skipped, recorded, and not left in the index")
    func filters() async throws {
        let harness = Harness()
        let photo = SyntheticPhoto(width: 1200, height: 900, faces: [
            alice.face(Layout.box(0)),
            bob.face(BoundingBox(left: 0.7, top: 0.1, width: 0.02, height: 0.03)),
            carol.face(Layout.box(2), confidence: 60),
        ])
        let report = try await harness.add(photo, as: "raw/filtered.jpg")

        #expect(report.faceCount == 1)
        let record = try #require(try await harness.metadata.photo(report.photoID))
        #expect(Set(record.skippedFaces.map(\.reason)) == [.tooSmall, .lowConfidence])
        #expect(await harness.indexedFaceCount() == 1)
    }

    @Test("the index's quality filter refusals are recorded as low-quality skips", arguments: CallPlan.allCases)
    func qualityFilter(plan: CallPlan) async throws {
        var harness = Harness(callPlan: plan)
        harness.configuration.policy.qualityFilter = .auto
        let photo = SyntheticPhoto(width: 1200, height: 900, faces: [alice.face(Layout.box(0)), bob.face(Layout.box(1), sharpness: 5)])
        let report = try await harness.add(photo, as: "raw/blurry.jpg")
        if plan != .seed {
            #expect(report.faceCount == 1)
            #expect(try await harness.metadata.photo(report.photoID)?.skippedFaces.map(\.reason) == [.lowQuality])
        } else {
            // The seed plan detects before it indexes; its crops are indexed without a quality filter.
            #expect(report.faceCount == 2)
        }
    }
}

@Suite("Ingestion: call plans")
struct CallPlanTests {
    @Test("the indexed plan makes exactly 1 + N face-service calls")
    func indexedPlanCalls() async throws {
        let harness = Harness(callPlan: .indexed)
        try await harness.add(Layout.photo([Identity(1), Identity(2), Identity(3)]), as: "raw/a.jpg")
        harness.counter.reset()
        try await harness.add(Layout.photo([Identity(1), Identity(4)], variant: 2), as: "raw/b.jpg")
        #expect(harness.counter.count(of: "FaceIndex.indexFaces") == 1)
        #expect(harness.counter.count(of: "FaceIndex.searchFaces(matching:)") == 2)
        #expect(harness.counter.count(of: "FaceIndex.searchFaces(byImage:)") == 0)
        #expect(harness.counter.count(of: "FaceDetector.detectFaces") == 0)
    }

    @Test("the seed plan detects, searches each crop, indexes and re-checks only faces that matched nobody")
    func seedPlanCalls() async throws {
        let harness = Harness(callPlan: .seed)
        try await harness.add(Layout.photo([Identity(1), Identity(2), Identity(3)]), as: "raw/a.jpg")
        #expect(harness.counter.count(of: "FaceIndex.indexFaces") == 3)
        harness.counter.reset()
        let report = try await harness.add(Layout.photo([Identity(1), Identity(4)], variant: 2), as: "raw/b.jpg")
        #expect(report.matchedPeople.count == 1 && report.newPeople.count == 1)
        #expect(harness.counter.count(of: "FaceDetector.detectFaces") == 1)
        #expect(harness.counter.count(of: "FaceIndex.searchFaces(byImage:)") == 2)
        #expect(harness.counter.count(of: "FaceIndex.indexFaces") == 1)
        #expect(harness.counter.count(of: "FaceIndex.searchFaces(matching:)") == 1)
    }

    @Test("without the re-check the seed plan makes exactly the reference design's calls")
    func referenceSeedPlanCalls() async throws {
        var harness = Harness(callPlan: .seed)
        harness.configuration.seedPlanRechecksNewFaces = false
        try await harness.add(Layout.photo([Identity(1)]), as: "raw/a.jpg")
        harness.counter.reset()
        try await harness.add(Layout.photo([Identity(1), Identity(4)], variant: 2), as: "raw/b.jpg")
        #expect(harness.counter.count(ofPort: "FaceIndex") + harness.counter.count(ofPort: "FaceDetector") == 1 + 2 + 1)
    }

    @Test("the users plan searches people, searches faces only for faces that matched no one, and adds every face to its person")
    func usersPlanCalls() async throws {
        let harness = Harness(callPlan: .users)
        try await harness.add(Layout.photo([Identity(1), Identity(2), Identity(3)]), as: "raw/a.jpg")
        harness.counter.reset()
        let report = try await harness.add(Layout.photo([Identity(1), Identity(4)], variant: 2), as: "raw/b.jpg")
        #expect(report.matchedPeople.count == 1 && report.newPeople.count == 1)
        #expect(harness.counter.count(of: "FaceIndex.indexFaces") == 1)
        #expect(harness.counter.count(of: "FaceIndex.searchPeople(matching:)") == 2)
        #expect(harness.counter.count(of: "FaceIndex.searchFaces(matching:)") == 1)
        #expect(harness.counter.count(of: "FaceIndex.associate") == 2)
        #expect(harness.counter.count(of: "FaceDetector.detectFaces") == 0)
        let alice = try #require(report.matchedPeople.first)
        let vectors = try #require(harness.index as? InMemoryFaceIndex)
        for appearance in try await Page.all({ try await harness.metadata.appearances(ofPerson: alice, page: $0) }) {
            #expect(await vectors.person(associatedWith: appearance.faceID) == alice)
        }
    }

    @Test("the users plan on an index without person vectors fails with a set-up error")
    func usersPlanNeedsVectors() async throws {
        struct FacesOnly: FaceIndex {
            let base = InMemoryFaceIndex()
            func indexFaces(in image: ImageInput, externalImageID: String, options: IndexOptions) async throws -> IndexedFaces {
                try await base.indexFaces(in: image, externalImageID: externalImageID, options: options)
            }
            func searchFaces(matching faceID: FaceID, options: SearchOptions) async throws -> [FaceMatch] { try await base.searchFaces(matching: faceID, options: options) }
            func searchFaces(byImage image: ImageInput, options: SearchOptions) async throws -> ImageSearchResult { try await base.searchFaces(byImage: image, options: options) }
            func deleteFaces(_ faceIDs: [FaceID]) async throws { await base.deleteFaces(faceIDs) }
        }
        let photos = InMemoryPhotoStore(location: "raw")
        try await photos.put(Layout.photo([Identity(1)]).encoded(), at: "a.jpg", contentType: "image/jpeg")
        let pipeline = IngestionPipeline(
            photos: photos, thumbnails: photos, detector: ScriptedFaceDetector(), index: FacesOnly(), metadata: InMemoryMetadataStore(),
            cropper: SyntheticThumbnailCropper(), configuration: .init(callPlan: .users))
        let report = await pipeline.ingest(key: "a.jpg")
        guard case .failed(let failure) = report.outcome else { Issue.record("expected a failure, got \(report.outcome)"); return }
        #expect(failure.code == .setupError && failure.message.contains("person vectors"))
    }

    @Test("every plan groups the same library into the same people", arguments: CallPlan.allCases)
    func plansAgree(plan: CallPlan) async throws {
        let harness = Harness(callPlan: plan)
        let library: [(String, [Int])] = [("1", [1, 2]), ("2", [2, 3]), ("3", [1]), ("4", [4, 1, 3]), ("5", [])]
        for (key, people) in library {
            try await harness.add(Layout.photo(people.map(Identity.init), variant: Int(key)!), as: "raw/\(key).jpg")
        }
        let groups = try await harness.snapshot().groups
        #expect(groups.map(\.photoCount).sorted() == [1, 2, 2, 3])
    }
}
