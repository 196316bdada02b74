@testable import FaceClusterKit
import FaceClusterLocal
import Foundation
import GRDB
import Testing

/// `LibraryRepair` on every store: a library damaged on purpose — each kind of damage a crash or a bug can
/// leave — is repaired to what a clean run leaves, and a second run finds nothing.
@Suite("Library repair")
struct LibraryRepairTests {
    enum Store: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case inMemory, sqlite, moto, rekognition
        var testDescription: String { rawValue }
        static var available: [Store] { Moto.available ? allCases : [.inMemory, .sqlite, .rekognition] }

        func harness() async throws -> Harness {
            switch self {
            case .inMemory: Harness()
            case .sqlite: try Harness.onSQLite()
            case .moto: try await Harness.onMoto()
            case .rekognition: try await Harness.onRekognition()
            }
        }
    }

    static let (alice, bob, carol, dave) = (Identity(1), Identity(2), Identity(3), Identity(4))

    /// Two photos ingested and a third uploaded; `crashing` ingests the third with a process that dies midway.
    static func library(_ store: Store, crashing: Bool) async throws -> (Harness, PhotoReference) {
        let harness = try await store.harness()
        try await harness.add(Layout.photo([alice, bob]), as: "raw/1.jpg")
        try await harness.add(Layout.photo([alice, carol], variant: 1), as: "raw/2.jpg")
        let third = try await harness.upload(Layout.photo([bob, carol], variant: 2), as: "raw/3.jpg")
        harness.clock.advance(by: .seconds(1))
        if crashing {
            _ = await harness.pipeline(faults: FaultInjector(rules: [.crashAt(9)])).ingest(third)
            harness.clock.advance(by: .seconds(901))
        } else {
            #expect(await harness.pipeline().ingest(third).outcome == .indexed)
        }
        return (harness, third)
    }

    @Test("each kind of damage is found by a dry run, fixed by a real one, and the second run finds nothing", arguments: Store.available)
    func repairsEveryKindOfDamage(_ store: Store) async throws {
        let (clean, _) = try await Self.library(store, crashing: false)
        let expected = try await clean.snapshot()
        let (harness, stuck) = try await Self.library(store, crashing: true)

        // A face indexed but never grouped; an appearance whose thumbnail is gone; a thumbnail nobody points to.
        let stray = try await harness.index.indexFaces(
            in: ImageInput(data: Layout.photo([Self.dave]).encoded()), externalImageID: "ph_strayphotoaaaaaaaaaaaaaaaa", options: IndexOptions())
        let strayFace = try #require(stray.indexed.first).faceID
        let photo1 = try #require(try await harness.metadata.photo(PhotoID(PhotoReference(store: harness.photos.location, key: "raw/1.jpg"))))
        let lostThumbnail = try #require(try await harness.metadata.appearances(inPhoto: photo1.id).first).thumbnailKey
        try await harness.thumbnails.delete(lostThumbnail)
        try await harness.thumbnails.put(Data("old".utf8), at: "people/p_ghostaaaaaaaaaaaaaaaaaaaaaaa/f_ghost.jpg", contentType: "image/jpeg")
        // Where the store allows it: a person with wrong counts and one with no photo at all.
        let damagedPeople = try await Self.damagePeople(harness, store)

        let dryRun = try await LibraryRepair(pipeline: harness.pipeline()).run(dryRun: true)
        let found = Dictionary(grouping: dryRun.problems, by: \.kind)
        #expect(found[.stuckPhoto]?.map(\.subject) == [PhotoID(stuck).rawValue])
        #expect(found[.indexFaceWithoutAppearance]?.map(\.subject) == [strayFace.rawValue])
        #expect(found[.missingThumbnail]?.map(\.subject) == [lostThumbnail])
        #expect(found[.orphanThumbnail]?.map(\.subject) == ["people/p_ghostaaaaaaaaaaaaaaaaaaaaaaa/f_ghost.jpg"])
        if damagedPeople {
            #expect(found[.countsDisagree]?.count == 1 && found[.personWithoutPhotos]?.count == 1, "\(dryRun.problems)")
        }
        #expect(dryRun.photosToIngest == [stuck])
        #expect(!dryRun.fixed)
        #expect(try await harness.metadata.photo(PhotoID(stuck))?.status == .processing, "a dry run changes nothing")

        let repaired = try await LibraryRepair(pipeline: harness.pipeline()).run(dryRun: false)
        #expect(repaired.problems == dryRun.problems && repaired.fixed)
        #expect(repaired.problems.allSatisfy { $0.notFixed == nil })
        #expect(try await harness.metadata.photo(PhotoID(stuck))?.status == .pending, "handed back for ingestion")
        for reference in repaired.photosToIngest {
            #expect(await harness.pipeline().ingest(reference).outcome == .indexed)
        }
        let after = try await harness.snapshot()
        #expect(after.sameGallery(as: expected), "\(after)\nvs\n\(expected)")
        #expect(after.thumbnailKeys == after.storedThumbnails)
        let recut = try await harness.thumbnails.get(lostThumbnail)
        #expect(recut.data.count > 0)

        let second = try await LibraryRepair(pipeline: harness.pipeline()).run(dryRun: true)
        #expect(second.isClean, "\(second.problems)")
    }

    @Test("photos in progress under a live lease, and their faces and thumbnails, are left alone", arguments: [Store.inMemory, .sqlite])
    func leavesLiveWorkAlone(_ store: Store) async throws {
        let (harness, busy) = try await Self.library(store, crashing: false)
        let reference = try await harness.upload(Layout.photo([Self.dave]), as: "raw/4.jpg")
        // A worker that crashed a moment ago: its lease is still live.
        _ = await harness.pipeline(faults: FaultInjector(rules: [.crashAt(12)])).ingest(reference)
        #expect(try await harness.metadata.photo(PhotoID(reference))?.status == .processing)
        let report = try await LibraryRepair(pipeline: harness.pipeline()).run(dryRun: false)
        #expect(report.isClean, "\(report.problems)")
        #expect(busy != reference)
        harness.clock.advance(by: .seconds(901))
        let later = try await LibraryRepair(pipeline: harness.pipeline()).run(dryRun: true)
        #expect(later.problems.map(\.kind) == [.stuckPhoto])
    }

    /// Makes one person's counts wrong and adds a person with no appearance, through the store's own tables.
    /// `false` where the store offers no way in (memory).
    static func damagePeople(_ harness: Harness, _ store: Store) async throws -> Bool {
        let someone = try #require(try await harness.metadata.people(page: PageRequest()).items.first)
        switch store {
        case .sqlite:
            let database = try #require(harness.metadata as? SQLiteMetadataStore).database
            try await database.writer.write { db in
                try db.execute(sql: "UPDATE people SET photo_count = 7, face_count = 9 WHERE id = ?", arguments: [someone.id.rawValue])
                try db.execute(sql: """
                    INSERT INTO people (id, name, photo_count, face_count, cover_face_id, cover_thumbnail_key, created_at, updated_at)
                    VALUES ('p_emptyaaaaaaaaaaaaaaaaaaaaaaa', NULL, 1, 1, 'f_gone', 'people/x/f_gone.jpg', 0, 0)
                    """)
            }
            return true
        case .moto:
            let dynamo = try #require(harness.metadata as? DynamoDBMetadataStore)
            let item = try #require(try await dynamo.dynamo.getItem(table: dynamo.peopleTable, key: DynamoDBMetadataStore.personKey(someone.id)))
            var wrong = someone
            wrong.photoCount = 7
            wrong.faceCount = 9
            try await dynamo.dynamo.putItem(
                table: dynamo.peopleTable, item: DynamoDBMetadataStore.personItem(wrong, revision: (item["revision"]?.intValue ?? 0) + 1))
            let empty = Person(id: PersonID(rawValue: "p_emptyaaaaaaaaaaaaaaaaaaaaaaa"), photoCount: 1, faceCount: 1, createdAt: Date(), updatedAt: Date())
            try await dynamo.dynamo.putItem(table: dynamo.peopleTable, item: DynamoDBMetadataStore.personItem(empty, revision: 1))
            return true
        case .inMemory, .rekognition:
            return false
        }
    }
}
