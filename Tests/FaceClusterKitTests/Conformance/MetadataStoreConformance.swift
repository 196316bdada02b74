import FaceClusterKit
import Foundation
import Testing

@Suite("MetadataStore conformance")
struct MetadataStoreConformance {
    static let epoch = Date(timeIntervalSince1970: 1_790_000_000)

    static func photo(_ key: String, status: PhotoStatus = .processing, addedAt: Date = epoch) -> Photo {
        let reference = PhotoReference(store: "bucket", key: key)
        return Photo(id: PhotoID(reference), reference: reference, status: status, contentTag: "\"etag-\(key)\"", addedAt: addedAt, updatedAt: addedAt)
    }

    static func appearance(_ face: String, person: PersonID, photo: Photo, matched: String? = nil) -> Appearance {
        Appearance(
            faceID: FaceID(rawValue: face), personID: person, photoID: photo.id,
            boundingBox: BoundingBox(left: 0.1, top: 0.1, width: 0.2, height: 0.2), thumbnailKey: "people/\(person)/\(face).jpg",
            confidence: 99, matchedFaceID: matched.map(FaceID.init(rawValue:)), similarity: matched == nil ? nil : 95,
            photoAddedAt: photo.addedAt)
    }

    static func person(founder face: String, createdAt: Date = epoch) -> Person {
        Person(id: .founded(by: FaceID(rawValue: face)), createdAt: createdAt, updatedAt: createdAt)
    }

    /// Adds a face founding a new person; returns the person's id.
    @discardableResult
    static func found(_ face: String, in photo: Photo, store: any MetadataStore, createdAt: Date = epoch) async throws -> PersonID {
        let person = person(founder: face, createdAt: createdAt)
        try await store.addAppearance(appearance(face, person: person.id, photo: photo), newPerson: person)
        return person.id
    }

    // MARK: Photos

    @Test("savePhoto is a compare-and-set on the revision", arguments: MetadataStoreSubject.all)
    func compareAndSet(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        var photo = Self.photo("a.jpg")
        let created = try await store.savePhoto(photo, expectedRevision: nil)
        #expect(created.revision == 1)
        // A second creation of another content loses; one of the same content may be a retry whose answer was
        // lost, which DynamoDBMetadataStore answers as the success it was (as it does a late identical update).
        var other = photo
        other.contentTag = "\"etag-other\""
        await #expect(throws: MetadataStoreError.conditionFailed) { try await store.savePhoto(other, expectedRevision: nil) }
        photo.status = .indexed
        let updated = try await store.savePhoto(photo, expectedRevision: 1)
        #expect(updated.revision == 2)
        // A writer still at revision 1 with another change loses.
        var late = photo
        late.status = .noFaces
        await #expect(throws: MetadataStoreError.conditionFailed) { try await store.savePhoto(late, expectedRevision: 1) }
        #expect(try await store.photo(photo.id) == updated)
        #expect(try await store.photo(Self.photo("none.jpg").id) == nil)
    }

    @Test("of 8 concurrent writers from one revision exactly one wins", arguments: MetadataStoreSubject.all)
    func concurrentWriters(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let photo = try await store.savePhoto(Self.photo("race.jpg"), expectedRevision: nil)
        let wins = await withTaskGroup(of: Bool.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var mine = photo
                    mine.lease = Lease(owner: "worker-\(worker)", expiresAt: Self.epoch)
                    return (try? await store.savePhoto(mine, expectedRevision: photo.revision)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
    }

    @Test("every photo field round-trips", arguments: MetadataStoreSubject.all)
    func photoFields(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        var photo = Self.photo("full.jpg", status: .failed(PhotoFailure(code: .corruptImage, message: "cut at byte 40", retryable: false)))
        photo.width = 4000
        photo.height = 3000
        photo.orientation = .right
        photo.indexedContentTag = "\"old\""
        photo.faceIDs = [FaceID(rawValue: "f1"), FaceID(rawValue: "f2")]
        photo.skippedFaces = [SkippedFace(boundingBox: BoundingBox(left: 0, top: 0, width: 0.01, height: 0.01), confidence: 80, reason: .tooSmall)]
        photo.lease = Lease(owner: "w", expiresAt: Self.epoch.addingTimeInterval(900))
        photo.reference.versionID = "v1"
        let stored = try await store.savePhoto(photo, expectedRevision: nil)
        var expected = photo
        expected.revision = 1
        #expect(stored == expected)
        #expect(try await store.photo(photo.id) == expected)
    }

    @Test("photos are listed by status and read in batches", arguments: MetadataStoreSubject.all)
    func photoListing(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        var ids: [PhotoID] = []
        for n in 0..<9 {
            let status: PhotoStatus = n % 3 == 0 ? .failed(PhotoFailure(code: .notAnImage, message: "x", retryable: false)) : .indexed
            ids.append(try await store.savePhoto(Self.photo("\(n).jpg", status: status), expectedRevision: nil).id)
        }
        let failed = try await Page.all(pageSize: 2) { try await store.photos(withStatus: .failed, page: $0) }
        #expect(failed.count == 3)
        #expect(failed.allSatisfy { $0.status.kind == .failed })
        #expect(try await store.photos(withStatus: nil, page: PageRequest(limit: 100)).items.count == 9)
        let batch = try await store.photos(Array(ids.prefix(4)) + [Self.photo("missing.jpg").id])
        #expect(Set(batch.keys) == Set(ids.prefix(4)))
    }

    // MARK: Appearances

    @Test("an appearance founding a person creates it with counts and a cover", arguments: MetadataStoreSubject.all)
    func founding(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let photo = Self.photo("1.jpg")
        let id = try await Self.found("f1", in: photo, store: store)
        let person = try #require(try await store.person(id))
        #expect(person.photoCount == 1 && person.faceCount == 1)
        #expect(person.coverFaceID == FaceID(rawValue: "f1"))
        #expect(person.coverThumbnailKey == "people/\(id)/f1.jpg")
        #expect(try await store.appearances(ofFaces: [FaceID(rawValue: "f1")])[FaceID(rawValue: "f1")]?.personID == id)
    }

    @Test("recording a face twice keeps the first appearance and the counts", arguments: MetadataStoreSubject.all)
    func appearanceIsConditional(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let photo = Self.photo("1.jpg")
        let alice = try await Self.found("f1", in: photo, store: store)
        let bob = try await Self.found("f2", in: photo, store: store)
        let again = try await store.addAppearance(Self.appearance("f1", person: bob, photo: photo, matched: "f2"), newPerson: nil)
        #expect(again == .alreadyRecorded(Self.appearance("f1", person: alice, photo: photo)))
        #expect(try await store.person(alice)?.faceCount == 1)
        #expect(try await store.person(bob)?.faceCount == 1)
    }

    @Test("joining an unknown person without creating it is personNotFound", arguments: MetadataStoreSubject.all)
    func unknownPerson(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let ghost = PersonID.founded(by: FaceID(rawValue: "ghost"))
        await #expect(throws: MetadataStoreError.personNotFound(ghost)) {
            try await store.addAppearance(Self.appearance("f9", person: ghost, photo: Self.photo("1.jpg"), matched: "ghost"), newPerson: nil)
        }
        #expect(try await store.appearances(ofFaces: [FaceID(rawValue: "f9")]).isEmpty)
    }

    @Test("photoCount counts photos and faceCount faces", arguments: MetadataStoreSubject.all)
    func counts(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let (one, two) = (Self.photo("1.jpg"), Self.photo("2.jpg"))
        let alice = try await Self.found("a1", in: one, store: store)
        try await store.addAppearance(Self.appearance("a2", person: alice, photo: two, matched: "a1"), newPerson: nil)
        let person = try #require(try await store.person(alice))
        #expect(person.photoCount == 2 && person.faceCount == 2)
    }

    @Test("removing appearances drops counts, moves the cover, and deletes an empty person", arguments: MetadataStoreSubject.all)
    func removal(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let (one, two) = (Self.photo("1.jpg"), Self.photo("2.jpg"))
        let alice = try await Self.found("a1", in: one, store: store)
        try await store.addAppearance(Self.appearance("a2", person: alice, photo: two, matched: "a1"), newPerson: nil)

        let removed = try await store.removeAppearance(of: FaceID(rawValue: "a1"))
        #expect(removed?.faceID == FaceID(rawValue: "a1"))
        let person = try #require(try await store.person(alice))
        #expect(person.photoCount == 1 && person.faceCount == 1)
        #expect(person.coverFaceID == FaceID(rawValue: "a2"))
        #expect(try await store.appearances(inPhoto: one.id).isEmpty)

        #expect(try await store.removeAppearance(of: FaceID(rawValue: "a1")) == nil)
        try await store.removeAppearance(of: FaceID(rawValue: "a2"))
        #expect(try await store.person(alice) == nil)
        #expect(try await store.people(page: PageRequest()).items.isEmpty)
    }

    @Test("a person's appearances page newest photo first", arguments: MetadataStoreSubject.all)
    func personAppearances(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let photos = (0..<7).map { Self.photo("\($0).jpg", addedAt: Self.epoch.addingTimeInterval(Double($0 % 4) * 60)) }
        let alice = try await Self.found("f0", in: photos[0], store: store)
        for n in 1..<7 {
            try await store.addAppearance(Self.appearance("f\(n)", person: alice, photo: photos[n], matched: "f0"), newPerson: nil)
        }
        let seen = try await Page.all(pageSize: 3) { try await store.appearances(ofPerson: alice, page: $0) }
        #expect(seen.count == 7)
        #expect(seen.map(\.photoAddedAt) == seen.map(\.photoAddedAt).sorted(by: >))
        #expect(Set(seen.map(\.faceID)).count == 7)
        #expect(try await store.appearances(inPhoto: photos[3].id).map(\.faceID) == [FaceID(rawValue: "f3")])
    }

    // MARK: People

    @Test("people page most photos first, then by id", arguments: MetadataStoreSubject.all)
    func peopleOrder(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        var expected: [(Int, PersonID)] = []
        for n in 0..<6 {
            let id = try await Self.found("p\(n)-0", in: Self.photo("p\(n)-0.jpg"), store: store)
            for extra in 0..<(n % 3) {
                try await store.addAppearance(Self.appearance("p\(n)-\(extra + 1)", person: id, photo: Self.photo("p\(n)-\(extra + 1).jpg"), matched: "p\(n)-0"), newPerson: nil)
            }
            expected.append((n % 3 + 1, id))
        }
        let seen = try await Page.all(pageSize: 4) { try await store.people(page: $0) }
        let order = expected.sorted { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
        #expect(seen.map(\.id) == order.map(\.1))
        #expect(seen.map(\.photoCount) == order.map(\.0))
    }

    @Test("cursors are bound to their listing; forged ones are invalidCursor", arguments: MetadataStoreSubject.all)
    func cursors(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let photo = Self.photo("1.jpg")
        let alice = try await Self.found("a", in: photo, store: store)
        let bob = try await Self.found("b", in: photo, store: store)
        try await store.addAppearance(Self.appearance("a2", person: alice, photo: Self.photo("2.jpg"), matched: "a"), newPerson: nil)
        let cursor = try #require(try await store.appearances(ofPerson: alice, page: PageRequest(limit: 1)).nextCursor)
        await #expect(throws: MetadataStoreError.invalidCursor) {
            try await store.appearances(ofPerson: bob, page: PageRequest(limit: 1, cursor: cursor))
        }
        for forged in ["", "!!!", "eyJxIjoicGVvcGxlIn0", String(repeating: "A", count: 5000)] {
            await #expect(throws: MetadataStoreError.invalidCursor) {
                try await store.people(page: PageRequest(cursor: PageCursor(rawValue: forged)))
            }
        }
    }

    @Test("rename sets and clears names", arguments: MetadataStoreSubject.all)
    func rename(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let alice = try await Self.found("a", in: Self.photo("1.jpg"), store: store)
        #expect(try await store.renamePerson(alice, to: "Alice").name == "Alice")
        #expect(try await store.person(alice)?.name == "Alice")
        #expect(try await store.renamePerson(alice, to: nil).name == nil)
        let ghost = PersonID.founded(by: FaceID(rawValue: "ghost"))
        await #expect(throws: MetadataStoreError.personNotFound(ghost)) { try await store.renamePerson(ghost, to: "x") }
    }

    @Test("merge moves appearances and counts, leaves a redirect, and is idempotent", arguments: MetadataStoreSubject.all)
    func merge(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let (one, two, three) = (Self.photo("1.jpg"), Self.photo("2.jpg"), Self.photo("3.jpg"))
        let alice = try await Self.found("a1", in: one, store: store)
        let twin = try await Self.found("a2", in: two, store: store, createdAt: Self.epoch.addingTimeInterval(5))
        try await store.addAppearance(Self.appearance("a3", person: twin, photo: three, matched: "a2"), newPerson: nil)
        _ = try await store.renamePerson(twin, to: "Alice")

        let merged = try await store.mergePeople(twin, into: alice, requireDisjointPhotos: true)
        #expect(merged.id == alice)
        #expect(merged.photoCount == 3 && merged.faceCount == 3)
        #expect(merged.name == "Alice")
        #expect(try await store.person(twin)?.id == alice)
        #expect(try await store.appearances(ofFaces: [FaceID(rawValue: "a3")])[FaceID(rawValue: "a3")]?.personID == alice)
        #expect(try await store.people(page: PageRequest()).items.map(\.id) == [alice])
        // Again, in either direction: both resolve to one person, nothing changes.
        #expect(try await store.mergePeople(twin, into: alice, requireDisjointPhotos: true) == merged)
        #expect(try await store.mergePeople(alice, into: twin, requireDisjointPhotos: true) == merged)
        // A face recorded later for the merged-away id lands on the survivor.
        let late = try await store.addAppearance(Self.appearance("a4", person: twin, photo: Self.photo("4.jpg"), matched: "a2"), newPerson: nil)
        #expect(late.appearance.personID == alice)
        #expect(try await store.person(alice)?.photoCount == 4)
    }

    @Test("merging people who share a photo is refused when asked, allowed otherwise", arguments: MetadataStoreSubject.all)
    func mergeSharingAPhoto(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let one = Self.photo("1.jpg")
        let alice = try await Self.found("a", in: one, store: store)
        let bob = try await Self.found("b", in: one, store: store)
        try await store.addAppearance(Self.appearance("a2", person: alice, photo: Self.photo("2.jpg"), matched: "a"), newPerson: nil)
        await #expect(throws: MetadataStoreError.peopleShareAPhoto(bob, alice)) {
            try await store.mergePeople(bob, into: alice, requireDisjointPhotos: true)
        }
        let merged = try await store.mergePeople(bob, into: alice, requireDisjointPhotos: false)
        #expect(merged.faceCount == 3)
        #expect(merged.photoCount == 2)
        let ghost = PersonID.founded(by: FaceID(rawValue: "ghost"))
        await #expect(throws: MetadataStoreError.personNotFound(ghost)) { try await store.mergePeople(ghost, into: alice, requireDisjointPhotos: false) }
    }

    @Test("moving a face: both people's counts and covers follow, an emptied person goes, a new one is created", arguments: MetadataStoreSubject.all)
    func moveAppearance(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let (one, two) = (Self.photo("1.jpg"), Self.photo("2.jpg"))
        let alice = try await Self.found("a1", in: one, store: store)
        try await store.addAppearance(Self.appearance("a2", person: alice, photo: two, matched: "a1"), newPerson: nil)
        let bob = try await Self.found("b1", in: two, store: store)

        // a1 (Alice's cover) moves to Bob: Alice keeps one photo, Bob now has two faces in two photos.
        let moved = try #require(try await store.moveAppearance(of: FaceID(rawValue: "a1"), to: bob, newPerson: nil))
        #expect(moved.personID == bob && moved.thumbnailKey == "people/\(alice)/a1.jpg", "the thumbnail key stays")
        let aliceAfter = try #require(try await store.person(alice))
        #expect(aliceAfter.faceCount == 1 && aliceAfter.photoCount == 1 && aliceAfter.coverFaceID == FaceID(rawValue: "a2"))
        let bobAfter = try #require(try await store.person(bob))
        #expect(bobAfter.faceCount == 2 && bobAfter.photoCount == 2)
        #expect(try await store.appearances(ofPerson: bob, page: PageRequest()).items.map(\.faceID).sorted() == [FaceID(rawValue: "a1"), FaceID(rawValue: "b1")])
        // Moving it where it is changes nothing.
        #expect(try await store.moveAppearance(of: FaceID(rawValue: "a1"), to: bob, newPerson: nil)?.personID == bob)
        #expect(try await store.person(bob)?.faceCount == 2)

        // a2 (Alice's last face) to a new person: Alice is gone, the new person has it.
        let carol = Self.person(founder: "c-new")
        try await store.moveAppearance(of: FaceID(rawValue: "a2"), to: carol.id, newPerson: carol)
        #expect(try await store.person(alice) == nil)
        let carolAfter = try #require(try await store.person(carol.id))
        #expect(carolAfter.faceCount == 1 && carolAfter.photoCount == 1 && carolAfter.coverFaceID == FaceID(rawValue: "a2"))

        // An unknown target without a person to create is personNotFound; an unknown face is nil.
        await #expect(throws: MetadataStoreError.personNotFound(Self.person(founder: "nobody").id)) {
            try await store.moveAppearance(of: FaceID(rawValue: "b1"), to: Self.person(founder: "nobody").id, newPerson: nil)
        }
        #expect(try await store.moveAppearance(of: FaceID(rawValue: "unknown"), to: bob, newPerson: nil) == nil)
        // A merged-away id can be founded again: the redirect gives way to the new person.
        try await store.mergePeople(carol.id, into: bob, requireDisjointPhotos: false)
        #expect(try await store.person(carol.id)?.id == bob)
        try await store.moveAppearance(of: FaceID(rawValue: "a2"), to: carol.id, newPerson: carol)
        #expect(try await store.person(carol.id)?.id == carol.id)
        #expect(try await store.person(bob)?.faceCount == 2)
    }

    @Test("face graph edges are stored once, undirected, read by either end and removed with their faces", arguments: MetadataStoreSubject.all)
    func faceGraph(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let (a, b, c, d) = (FaceID(rawValue: "fa"), FaceID(rawValue: "fb"), FaceID(rawValue: "fc"), FaceID(rawValue: "fd"))
        try await store.recordEdges([FaceEdge(b, a, similarity: 91.5), FaceEdge(a, c, similarity: 88.25), FaceEdge(c, c, similarity: 100)])
        try await store.recordEdges([FaceEdge(a, b, similarity: 91.5), FaceEdge(c, d, similarity: 95)])
        #expect(try await store.edges(touching: [a]) == [FaceEdge(a, b, similarity: 91.5), FaceEdge(a, c, similarity: 88.25)])
        #expect(try await store.edges(touching: [b, d]) == [FaceEdge(a, b, similarity: 91.5), FaceEdge(c, d, similarity: 95)])
        #expect(try await store.edges(touching: [FaceID(rawValue: "none")]).isEmpty)
        try await store.removeEdges(touching: [c])
        #expect(try await store.edges(touching: [a, b, c, d]) == [FaceEdge(a, b, similarity: 91.5)])
    }

    @Test("updatePerson writes name, pin, creation date and a cover of theirs; merges carry the pin", arguments: MetadataStoreSubject.all)
    func updatePerson(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let (one, two) = (Self.photo("1.jpg"), Self.photo("2.jpg"))
        let alice = try await Self.found("a1", in: one, store: store)
        try await store.addAppearance(Self.appearance("a2", person: alice, photo: two, matched: "a1"), newPerson: nil)
        var changed = try #require(try await store.person(alice))
        changed.name = "Alice"
        changed.pinned = true
        changed.createdAt = Self.epoch.addingTimeInterval(-60)
        changed.coverFaceID = FaceID(rawValue: "a2")
        let stored = try await store.updatePerson(changed)
        #expect(stored.name == "Alice" && stored.pinned && stored.createdAt == Self.epoch.addingTimeInterval(-60))
        #expect(stored.coverFaceID == FaceID(rawValue: "a2") && stored.coverThumbnailKey == "people/\(alice)/a2.jpg")
        #expect(stored.faceCount == 2 && stored.photoCount == 2, "counts stay as the appearances make them")
        // A cover that is not one of theirs is ignored.
        changed.coverFaceID = FaceID(rawValue: "nobody")
        let again = try await store.updatePerson(changed)
        #expect(again.coverFaceID == FaceID(rawValue: "a2"))
        #expect(try await store.person(alice) == again)
        let bob = try await Self.found("b1", in: Self.photo("3.jpg"), store: store)
        let merged = try await store.mergePeople(alice, into: bob, requireDisjointPhotos: true)
        #expect(merged.pinned && merged.name == "Alice")
        await #expect(throws: MetadataStoreError.personNotFound(Self.person(founder: "x").id)) {
            try await store.updatePerson(Self.person(founder: "x"))
        }
    }

    @Test("cannot-links are recorded once, read by either face and removed", arguments: MetadataStoreSubject.all)
    func cannotLinks(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let (a, b, c) = (FaceID(rawValue: "fa"), FaceID(rawValue: "fb"), FaceID(rawValue: "fc"))
        try await store.recordCannotLinks([FacePair(b, a), FacePair(a, c), FacePair(a, a)])
        try await store.recordCannotLinks([FacePair(a, b)])
        #expect(try await store.cannotLinks(touching: [a]) == [FacePair(a, b), FacePair(a, c)])
        #expect(try await store.cannotLinks(touching: [b]) == [FacePair(a, b)])
        try await store.removeCannotLinks([FacePair(c, a)])
        #expect(try await store.cannotLinks(touching: [a, b, c]) == [FacePair(a, b)])
    }

    @Test("the journal keeps operations by id and lists them newest first, a page at a time", arguments: MetadataStoreSubject.all)
    func journal(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        var operations: [PeopleOperation] = []
        for minute in 0..<5 {
            var operation = PeopleOperation(
                kind: .rename, automatic: minute % 2 == 0, at: Self.epoch.addingTimeInterval(Double(minute) * 60), summary: "step \(minute)",
                changes: [.move(face: FaceID(rawValue: "f\(minute)"), from: Self.person(founder: "a").id, to: Self.person(founder: "b").id)])
            try await store.saveOperation(operation)
            operation.state = .applied
            try await store.saveOperation(operation)
            operations.append(operation)
        }
        #expect(try await store.operation(operations[2].id) == operations[2])
        #expect(try await store.operation("op_none") == nil)
        let first = try await store.operations(page: PageRequest(limit: 2))
        #expect(first.items.map(\.summary) == ["step 4", "step 3"])
        let all = try await Page.all(pageSize: 2) { try await store.operations(page: $0) }
        #expect(all.map(\.summary) == ["step 4", "step 3", "step 2", "step 1", "step 0"])
        #expect(all.allSatisfy { $0.state == .applied })
    }

    @Test("pending matches are recorded once and read back", arguments: MetadataStoreSubject.all)
    func pendingMatches(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let face = FaceID(rawValue: "waiting")
        let (a, b) = (PersonID.founded(by: FaceID(rawValue: "a")), PersonID.founded(by: FaceID(rawValue: "b")))
        #expect(try await store.pendingMatches(for: face).isEmpty)
        let first = PendingMatch(face: face, matchedBy: a, matcherFoundedPerson: true)
        let second = PendingMatch(face: face, matchedBy: b, matcherFoundedPerson: false)
        try await store.recordPendingMatch(first)
        try await store.recordPendingMatch(second)
        try await store.recordPendingMatch(first)
        #expect(Set(try await store.pendingMatches(for: face)) == [first, second])
        #expect(try await store.pendingMatches(for: FaceID(rawValue: "other")).isEmpty)
    }

    @Test("concurrent appearances for one new person count every face once", arguments: MetadataStoreSubject.all)
    func concurrentAppearances(_ subject: MetadataStoreSubject) async throws {
        let store = try await subject.make()
        let founder = Self.person(founder: "f0")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<16 {
                group.addTask {
                    // Every writer offers to create the person; exactly one creation happens.
                    let appearance = Self.appearance("f\(n)", person: founder.id, photo: Self.photo("\(n).jpg"), matched: n == 0 ? nil : "f0")
                    _ = try await store.addAppearance(appearance, newPerson: founder)
                }
            }
            try await group.waitForAll()
        }
        let person = try #require(try await store.person(founder.id))
        #expect(person.faceCount == 16 && person.photoCount == 16)
    }
}
