import FaceClusterKit
import Foundation
import Testing

@Suite("FaceIndex conformance")
struct FaceIndexConformance {
    static func scene(_ identities: [Int]) -> Scene {
        Scene(faces: identities.enumerated().map { slot, identity in (Identity(identity), Layout.box(slot, of: max(identities.count, 2))) })
    }

    func index(_ subject: FaceIndexSubject, _ identities: [Int], as externalID: String, into index: any FaceIndex) async throws -> IndexedFaces {
        try await index.indexFaces(
            in: ImageInput(data: try subject.render(Self.scene(identities))), externalImageID: externalID, options: IndexOptions())
    }

    @Test("indexing returns one id per face", arguments: FaceIndexSubject.all)
    func indexes(_ subject: FaceIndexSubject) async throws {
        let index = try await subject.make()
        let result = try await self.index(subject, [1, 2, 3], as: "photo-1", into: index)
        #expect(result.indexed.count == 3)
        #expect(Set(result.indexed.map(\.faceID)).count == 3)
        #expect(result.unindexed.isEmpty)
    }

    @Test("indexing the same image under the same external id again stores nothing twice", arguments: FaceIndexSubject.all)
    func idempotent(_ subject: FaceIndexSubject) async throws {
        let index = try await subject.make()
        let first = try await self.index(subject, [1, 2], as: "photo-1", into: index)
        let second = try await self.index(subject, [1, 2], as: "photo-1", into: index)
        #expect(Set(second.indexed.map(\.faceID)) == Set(first.indexed.map(\.faceID)))
        let probe = try await self.index(subject, [1], as: "probe", into: index)
        let matches = try await index.searchFaces(matching: try #require(probe.indexed.first).faceID, options: SearchOptions(threshold: subject.threshold))
        #expect(matches.count == 1, "one stored face of identity 1, not two")
    }

    @Test("search by face id finds the same identity, never itself nor strangers", arguments: FaceIndexSubject.all)
    func searchByFace(_ subject: FaceIndexSubject) async throws {
        let index = try await subject.make()
        let one = try await self.index(subject, [1, 2], as: "photo-1", into: index)
        let two = try await self.index(subject, [1, 3], as: "photo-2", into: index)
        let probe = two.indexed.first { $0.face.boundingBox.left < 0.3 }!.faceID
        let matches = try await index.searchFaces(matching: probe, options: SearchOptions(threshold: subject.threshold))
        let identityOne = one.indexed.first { $0.face.boundingBox.left < 0.3 }!.faceID
        #expect(matches.map(\.faceID) == [identityOne])
        #expect(matches[0].similarity >= subject.threshold && matches[0].similarity <= 100)
        #expect(matches[0].externalImageID == "photo-1")
    }

    @Test("search by image uses the largest face; an image without a face finds nothing", arguments: FaceIndexSubject.all)
    func searchByImage(_ subject: FaceIndexSubject) async throws {
        let index = try await subject.make()
        let stored = try await self.index(subject, [1, 2], as: "photo-1", into: index)
        var scene = Scene()
        scene.faces = [(Identity(2), BoundingBox(left: 0.1, top: 0.1, width: 0.4, height: 0.5)), (Identity(1), BoundingBox(left: 0.7, top: 0.1, width: 0.1, height: 0.15))]
        let result = try await index.searchFaces(byImage: ImageInput(data: try subject.render(scene)), options: SearchOptions(threshold: subject.threshold))
        let identityTwo = stored.indexed.first { $0.face.boundingBox.left > 0.3 }!.faceID
        #expect(result.matches.map(\.faceID) == [identityTwo])
        #expect((result.searchedFace?.left ?? 1) < 0.2)
        let empty = try await index.searchFaces(byImage: ImageInput(data: try subject.render(Scene())), options: SearchOptions(threshold: subject.threshold))
        #expect(empty.searchedFace == nil && empty.matches.isEmpty)
    }

    @Test("deleted faces are no longer found; deleting unknown ids is fine", arguments: FaceIndexSubject.all)
    func delete(_ subject: FaceIndexSubject) async throws {
        let index = try await subject.make()
        let stored = try await self.index(subject, [1], as: "photo-1", into: index)
        let probe = try await self.index(subject, [1], as: "photo-2", into: index)
        try await index.deleteFaces(stored.indexed.map(\.faceID) + [FaceID(rawValue: "00000000-0000-0000-0000-000000000000")])
        #expect(try await index.searchFaces(matching: try #require(probe.indexed.first).faceID, options: SearchOptions(threshold: subject.threshold)).isEmpty)
    }

    @Test("at most maxFaces faces are indexed, largest first; the rest are reported", arguments: FaceIndexSubject.all)
    func maxFaces(_ subject: FaceIndexSubject) async throws {
        let index = try await subject.make()
        var scene = Scene()
        scene.faces = [
            (Identity(1), BoundingBox(left: 0.05, top: 0.2, width: 0.1, height: 0.15)),
            (Identity(2), BoundingBox(left: 0.3, top: 0.2, width: 0.3, height: 0.4)),
            (Identity(3), BoundingBox(left: 0.7, top: 0.2, width: 0.2, height: 0.27)),
        ]
        let result = try await index.indexFaces(
            in: ImageInput(data: try subject.render(scene)), externalImageID: "crowd", options: IndexOptions(maxFaces: 2))
        #expect(result.indexed.count == 2)
        #expect(result.indexed.allSatisfy { $0.face.boundingBox.width >= 0.19 })
        #expect(result.unindexed.map(\.reasons) == [["EXCEEDS_MAX_FACES"]])
    }

    @Test("bytes that are not an image are refused with a typed error", arguments: FaceIndexSubject.all)
    func notAnImage(_ subject: FaceIndexSubject) async throws {
        let index = try await subject.make()
        await #expect(throws: FaceServiceError.self) {
            try await index.indexFaces(in: ImageInput(data: Data("hello".utf8)), externalImageID: "x", options: IndexOptions())
        }
    }
}
