import FaceClusterKit
import Foundation
import Testing

@Suite("Gallery: reading")
struct GalleryReadingTests {
    let alice = Identity(1), bob = Identity(2), carol = Identity(3)

    /// Alice in 3 photos, Bob in 2, Carol in 1.
    func library() async throws -> (Harness, [String: PersonID]) {
        let harness = Harness()
        let one = try await harness.add(Layout.photo([alice, bob]), as: "raw/1.jpg")
        try await harness.add(Layout.photo([alice], variant: 1), as: "raw/2.jpg")
        let three = try await harness.add(Layout.photo([carol, alice, bob], variant: 2), as: "raw/3.jpg")
        let people = try await harness.gallery.photo(three.photoID).faces
        var ids: [String: PersonID] = [:]
        for face in people {
            let left = face.appearance.boundingBox.left
            ids[left < 0.3 ? "carol" : left < 0.5 ? "alice" : "bob"] = face.person.id
        }
        #expect(one.newPeople.count == 2)
        return (harness, ids)
    }

    @Test("people come most photos first, in pages that add up to everyone")
    func peopleOrder() async throws {
        let (harness, ids) = try await library()
        let first = try await harness.gallery.people(page: PageRequest(limit: 2))
        #expect(first.items.map(\.id) == [ids["alice"], ids["bob"]])
        #expect(first.items.map(\.photoCount) == [3, 2])
        let second = try await harness.gallery.people(page: PageRequest(limit: 2, cursor: first.nextCursor))
        #expect(second.items.map(\.id) == [ids["carol"]])
        #expect(second.nextCursor == nil)
    }

    @Test("a person's photos come newest first, paged")
    func personPhotos() async throws {
        let (harness, ids) = try await library()
        let alice = try #require(ids["alice"])
        let first = try await harness.gallery.photos(of: alice, page: PageRequest(limit: 2))
        let second = try await harness.gallery.photos(of: alice, page: PageRequest(limit: 2, cursor: first.nextCursor))
        #expect((first.items + second.items).map(\.photo.reference.key) == ["raw/3.jpg", "raw/2.jpg", "raw/1.jpg"])
        #expect(second.nextCursor == nil)
        #expect(first.items.allSatisfy { $0.appearance.personID == alice })
    }

    @Test("a person a user merged, with two faces in a photo, lists each photo once, in pages of any size; faces(of:) lists both")
    func mergedPersonPhotos() async throws {
        let (harness, ids) = try await library()
        let (alice, bob) = (try #require(ids["alice"]), try #require(ids["bob"]))
        let merged = try await harness.gallery.merge(bob, into: alice)
        #expect(merged.photoCount == 3 && merged.faceCount == 5)
        let expected = ["raw/3.jpg", "raw/2.jpg", "raw/1.jpg"]
        #expect(try await harness.gallery.photos(of: alice).items.map(\.photo.reference.key) == expected)
        for limit in 1...5 {
            let listed = try await Page.all(pageSize: limit) { try await harness.gallery.photos(of: alice, page: $0) }
            #expect(listed.map(\.photo.reference.key) == expected, "pages of \(limit)")
        }
        #expect(try await harness.gallery.faces(of: alice).items.count == 5)
    }

    @Test("the people in a photo, each with their face")
    func peopleInPhoto() async throws {
        let (harness, ids) = try await library()
        let photo = PhotoID(PhotoReference(store: "raw-bucket", key: "raw/1.jpg"))
        let detail = try await harness.gallery.photo(photo)
        #expect(Set(detail.faces.map(\.person.id)) == Set([ids["alice"]!, ids["bob"]!]))
        #expect(detail.faces.allSatisfy { $0.appearance.photoID == photo })
    }

    @Test("a cursor from one listing is refused by another")
    func foreignCursor() async throws {
        let (harness, ids) = try await library()
        let alicePage = try await harness.gallery.photos(of: ids["alice"]!, page: PageRequest(limit: 1))
        let cursor = try #require(alicePage.nextCursor)
        await #expect(throws: MetadataStoreError.invalidCursor) {
            try await harness.gallery.photos(of: ids["bob"]!, page: PageRequest(limit: 1, cursor: cursor))
        }
        await #expect(throws: MetadataStoreError.invalidCursor) {
            try await harness.gallery.people(page: PageRequest(cursor: cursor))
        }
        await #expect(throws: MetadataStoreError.invalidCursor) {
            try await harness.gallery.people(page: PageRequest(cursor: PageCursor(rawValue: "bm90LWEtY3Vyc29y")))
        }
    }

    @Test("unknown people and photos are typed errors")
    func notFound() async throws {
        let (harness, _) = try await library()
        let stranger = PersonID.founded(by: FaceID(rawValue: "nobody"))
        await #expect(throws: GalleryError.personNotFound(stranger)) { try await harness.gallery.person(stranger) }
        await #expect(throws: GalleryError.personNotFound(stranger)) { try await harness.gallery.photos(of: stranger) }
        let missing = PhotoID(PhotoReference(store: "raw-bucket", key: "raw/none.jpg"))
        await #expect(throws: GalleryError.photoNotFound(missing)) { try await harness.gallery.photo(missing) }
    }

    @Test("presigned URLs point at the photo and the thumbnail; expiry is bounded to 7 days")
    func urls() async throws {
        let (harness, ids) = try await library()
        let alice = try await harness.gallery.person(ids["alice"]!)
        let photo = try #require(try await harness.gallery.photos(of: alice.id).items.first?.photo)
        let photoURL = try await harness.gallery.photoURL(for: photo)
        #expect(photoURL.path == "/raw/3.jpg")
        let thumbnailURL = try await harness.gallery.thumbnailURL(for: try #require(alice.coverThumbnailKey), expiresIn: .seconds(60))
        #expect(thumbnailURL.path.hasPrefix("/people/\(alice.id)/"))
        await #expect(throws: PhotoStoreError.invalidExpiry(.seconds(8 * 24 * 3600))) {
            try await harness.gallery.photoURL(for: photo, expiresIn: .seconds(8 * 24 * 3600))
        }
    }

    @Test("pagination neither skips nor repeats while new photos are ingested")
    func paginationUnderWrites() async throws {
        let harness = Harness()
        for n in 0..<20 { try await harness.add(Layout.photo([Identity(1), Identity(10 + n)], variant: n), as: "raw/\(n).jpg") }
        let alice = try #require(try await harness.gallery.people(page: PageRequest(limit: 1)).items.first)
        let before = Set(try await harness.metadata.appearances(ofPerson: alice.id, page: PageRequest(limit: 100)).items.map(\.faceID))
        let peopleBefore = Set(try await harness.gallery.people(page: PageRequest(limit: 100)).items.map(\.id))

        let writer = Task {
            for n in 20..<40 { try await harness.add(Layout.photo([Identity(1), Identity(10 + n)], variant: n), as: "raw/\(n).jpg") }
        }
        var seenPhotos: [FaceID] = []
        var seenPeople: [PersonID] = []
        var photoCursor: PageCursor?
        var peopleCursor: PageCursor?
        var photosDone = false, peopleDone = false
        while !(photosDone && peopleDone) {
            if !photosDone {
                let photos = try await harness.metadata.appearances(ofPerson: alice.id, page: PageRequest(limit: 3, cursor: photoCursor))
                seenPhotos += photos.items.map(\.faceID)
                photoCursor = photos.nextCursor
                photosDone = photoCursor == nil
            }
            if !peopleDone {
                let people = try await harness.gallery.people(page: PageRequest(limit: 3, cursor: peopleCursor))
                seenPeople += people.items.map(\.id)
                peopleCursor = people.nextCursor
                peopleDone = peopleCursor == nil
            }
            await Task.yield()
        }
        try await writer.value

        #expect(Set(seenPhotos).count == seenPhotos.count, "no photo repeated")
        #expect(before.isSubset(of: Set(seenPhotos)), "no photo that existed before was skipped")
        #expect(Set(seenPeople).count == seenPeople.count, "no person repeated")
        // Everyone but Alice kept their photo count (1), so none of them may be skipped.
        #expect(peopleBefore.subtracting([alice.id]).isSubset(of: Set(seenPeople)))
    }
}

@Suite("Gallery: people operations")
struct GalleryOperationsTests {
    let alice = Identity(1), bob = Identity(2)

    @Test("rename trims, clears and validates names")
    func rename() async throws {
        let harness = Harness()
        let report = try await harness.add(Layout.photo([alice]), as: "raw/1.jpg")
        let id = try #require(report.newPeople.first)
        #expect(try await harness.gallery.rename(id, to: "  Alice Liddell \n").name == "Alice Liddell")
        #expect(try await harness.gallery.person(id).name == "Alice Liddell")
        #expect(try await harness.gallery.rename(id, to: "   ").name == nil)
        await #expect(throws: GalleryError.self) { try await harness.gallery.rename(id, to: String(repeating: "a", count: 201)) }
        await #expect(throws: GalleryError.self) { try await harness.gallery.rename(id, to: "bad\u{7}name") }
        for hidden in ["\u{202E}ecilA", "Al\u{200B}ice", "Alice \u{FFFD}\u{FFFD}", "\u{2066}Alice\u{2069}", "\u{200D}", "\u{200C}\u{200D}", "a\u{2028}b"] {
            await #expect(throws: GalleryError.self, "\(hidden.unicodeScalars.map { String($0.value, radix: 16) })") { try await harness.gallery.rename(id, to: hidden) }
        }
        // Joiners belong to real names and emoji: kept.
        #expect(try await harness.gallery.rename(id, to: "مهر\u{200C}نوش 👩\u{200D}🔬").name == "مهر\u{200C}نوش 👩\u{200D}🔬")
        let stranger = PersonID.founded(by: FaceID(rawValue: "x"))
        await #expect(throws: GalleryError.personNotFound(stranger)) { try await harness.gallery.rename(stranger, to: "X") }
    }

    @Test("merge moves photos, counts and future matches; the old id resolves to the survivor")
    func merge() async throws {
        var harness = Harness()
        harness.configuration.policy.faceMatchThreshold = 99.99
        let first = try await harness.add(Layout.photo([alice]), as: "raw/1.jpg")
        // At this strict threshold a second photo of Alice founds a second person: a split a user fixes.
        let second = try await harness.add(Layout.photo([alice, bob], variant: 6), as: "raw/2.jpg")
        let aliceOne = try #require(first.newPeople.first)
        let aliceTwo = try #require(try await harness.gallery.photo(second.photoID).faces.first { $0.appearance.boundingBox.left < 0.3 }?.person.id)
        #expect(aliceTwo != aliceOne)
        _ = try await harness.gallery.rename(aliceTwo, to: "Alice")

        let merged = try await harness.gallery.merge(aliceTwo, into: aliceOne)

        #expect(merged.id == aliceOne)
        #expect(merged.photoCount == 2 && merged.faceCount == 2)
        #expect(merged.name == "Alice", "the absorbed person's name survives when the target has none")
        #expect(try await harness.gallery.person(aliceTwo).id == aliceOne)
        #expect(try await harness.gallery.photos(of: aliceOne).items.count == 2)
        #expect(try await harness.gallery.people().items.count == 2)
        // Merging again is harmless; merging into itself is refused.
        #expect(try await harness.gallery.merge(aliceTwo, into: aliceOne).photoCount == 2)
        await #expect(throws: GalleryError.self) { try await harness.gallery.merge(aliceOne, into: aliceOne) }
        // A later photo of Alice joins the survivor (at the default threshold: a person of two faces is joined
        // on the evidence of both).
        harness.configuration.policy.faceMatchThreshold = 90
        let third = try await harness.add(Layout.photo([alice], variant: 6), as: "raw/3.jpg")
        #expect(third.matchedPeople == [aliceOne])
    }

    @Test("a user may merge two people who share a photo; photoCount still counts photos")
    func mergeSharingAPhoto() async throws {
        let harness = Harness()
        let report = try await harness.add(Layout.photo([alice, bob]), as: "raw/1.jpg")
        try await harness.add(Layout.photo([alice], variant: 1), as: "raw/2.jpg")
        try #require(report.newPeople.count == 2)
        let (a, b) = (report.newPeople[0], report.newPeople[1])
        let merged = try await harness.gallery.merge(b, into: a)
        #expect(merged.faceCount == 3)
        #expect(merged.photoCount == 2)
    }

    @Test("deleting a photo removes its faces, thumbnails and appearances; a person left with no photo disappears")
    func deletePhoto() async throws {
        let harness = Harness()
        try await harness.add(Layout.photo([alice]), as: "raw/1.jpg")
        let reference = try await harness.upload(Layout.photo([alice, bob], variant: 1), as: "raw/2.jpg")
        let report = await harness.pipeline().ingest(reference)
        let bobID = try #require(report.newPeople.first)
        let before = try await harness.snapshot()

        try await harness.gallery.deletePhoto(report.photoID)

        let after = try await harness.snapshot()
        #expect(after.groups.count == 1)
        #expect(after.groups.first?.photoCount == 1)
        #expect(after.indexedFaceCount == before.indexedFaceCount - 2)
        #expect(after.storedThumbnails.count == before.storedThumbnails.count - 2)
        #expect(after.statuses["raw/2.jpg"] == .deleted)
        #expect(try await harness.metadata.person(bobID) == nil)
        await #expect(throws: GalleryError.photoNotFound(report.photoID)) { try await harness.gallery.photo(report.photoID) }
        // Idempotent, and a late re-delivery does not bring the photo back.
        try await harness.gallery.deletePhoto(report.photoID)
        #expect(await harness.pipeline().ingest(reference).outcome == .skipped(.deleted))
        #expect(try await harness.snapshot() == after)
        // The original stays unless asked: local photos are the user's files.
        _ = try await harness.photos.head("raw/2.jpg")
        try await harness.gallery.deletePhoto(report.photoID, removeOriginal: true)
        await #expect(throws: PhotoStoreError.notFound(key: "raw/2.jpg")) { try await harness.photos.head("raw/2.jpg") }
    }

    @Test("forgetting a person removes every face, thumbnail and appearance of theirs; photos stay")
    func forget() async throws {
        let harness = Harness()
        let first = try await harness.add(Layout.photo([alice, bob]), as: "raw/1.jpg")
        for n in 2...5 { try await harness.add(Layout.photo([alice], variant: n), as: "raw/\(n).jpg") }
        let aliceID = try #require(first.newPeople.first)
        #expect(try await harness.gallery.person(aliceID).photoCount == 5)

        let removed = try await harness.gallery.forget(aliceID)

        #expect(removed == 5)
        #expect(try await harness.metadata.person(aliceID) == nil)
        let after = try await harness.snapshot()
        #expect(after.groups.count == 1, "only Bob is left")
        #expect(after.indexedFaceCount == 1)
        #expect(after.storedThumbnails.count == 1)
        #expect(after.statuses.values.allSatisfy { $0 == .indexed }, "the photos stay")
        let photo = try await harness.gallery.photo(first.photoID)
        #expect(photo.faces.count == 1)
        #expect(photo.photo.faceIDs.count == 1)
        await #expect(throws: GalleryError.personNotFound(aliceID)) { try await harness.gallery.forget(aliceID) }
    }

    @Test("a forget by an id merged into another person is refused, naming that person; nothing is erased")
    func forgetByMergedAwayID() async throws {
        let harness = Harness()
        let first = try await harness.add(Layout.photo([alice, bob]), as: "raw/1.jpg")
        try await harness.add(Layout.photo([alice], variant: 2), as: "raw/2.jpg")
        try #require(first.newPeople.count == 2)
        let (aliceID, bobID) = (first.newPeople[0], first.newPeople[1])
        _ = try await harness.gallery.rename(aliceID, to: "Alice")
        _ = try await harness.gallery.merge(bobID, into: aliceID)
        let before = try await harness.snapshot()

        let error = await #expect(throws: GalleryError.self) { try await harness.gallery.forget(bobID) }
        #expect(error?.description.contains("was merged into \(aliceID) (Alice)") == true, "\(String(describing: error))")
        #expect(try await harness.snapshot() == before, "nothing erased")
        #expect(try await harness.gallery.forget(aliceID) == 3, "by its own id the person is forgotten")
    }
}
