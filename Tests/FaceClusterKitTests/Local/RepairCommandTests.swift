import FaceClusterKit
import FaceClusterLocal
import Foundation
import GRDB
import Testing

/// `facecluster repair` on a library damaged on purpose, as a user runs it.
@Suite("facecluster repair", .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"), .serialized)
struct RepairCommandTests {
    @Test("--dry-run lists every kind of damage and changes nothing; repair fixes it all; a second check finds nothing")
    func repairDamagedLibrary() async throws {
        let folder = try InterruptionTests.folder()
        let photos = folder.appendingPathComponent("photos")
        let unfinished = photos.appendingPathComponent("John_Simm-2.jpg")
        try FileManager.default.moveItem(at: unfinished, to: folder.appendingPathComponent("later.jpg"))
        #expect(try await CommandLineTests.run(["ingest", "photos"], in: folder).status == 0)
        try FileManager.default.moveItem(at: folder.appendingPathComponent("later.jpg"), to: unfinished)
        let before = try await InterruptionTests.partition(folder)

        // The damage: a photo left `processing` by a process that is gone; a thumbnail deleted; a stray
        // thumbnail; a face vector nobody holds; a person's counts wrong.
        let store = folder.appendingPathComponent(".facecluster")
        let library = try LocalLibrary(directory: store)
        let reference = try #require(library.reference(forFile: unfinished))
        let gone = WorkerIdentity(host: WorkerIdentity.current.host, processID: 999_999, processStart: WorkerIdentity.current.processStart)
        try await library.metadata.savePhoto(Photo(
            id: PhotoID(reference), reference: reference, status: .processing, contentTag: try await library.originals.head(reference.key).eTag,
            addedAt: Date(), updatedAt: Date(), lease: Lease(owner: "crashed", expiresAt: Date().addingTimeInterval(600), worker: gone)),
            expectedRevision: nil)
        let people = try await Page.all { try await library.metadata.people(page: $0) }
        let someone = try #require(people.first), miscounted = try #require(people.last)
        let lost = try #require(someone.coverThumbnailKey)
        try FileManager.default.removeItem(at: store.appendingPathComponent("thumbnails").appendingPathComponent(lost))
        let stray = store.appendingPathComponent("thumbnails/people/p_strayaaaaaaaaaaaaaaaaaaaaaa/f_stray.jpg")
        try FileManager.default.createDirectory(at: stray.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: stray)
        try await library.database.writer.write { db in
            try db.execute(sql: "INSERT INTO face_vectors (face_id, external_image_id, embedding) VALUES ('f_stray', 'ph_nowhere', x'00000000')")
            try db.execute(sql: "UPDATE people SET photo_count = 40 WHERE id = ?", arguments: [miscounted.id.rawValue])
        }

        let check = try await CommandLineTests.run(["repair", "--dry-run"], in: folder)
        #expect(check.status == 1, "problems found: exit 1")
        for kind in ["stuck_photo", "missing_thumbnail", "orphan_thumbnail", "index_face_without_appearance", "counts_disagree"] {
            #expect(check.output.contains(kind), "\(kind) missing from:\n\(check.output)")
        }
        #expect(check.output.contains("nothing changed (--dry-run)"))
        #expect(FileManager.default.fileExists(atPath: stray.path), "a dry run changes nothing")

        let repair = try await CommandLineTests.run(["repair", "--json"], in: folder)
        #expect(repair.status == 0, "\(repair.output)\n\(repair.errors)")
        let report = try #require(try repair.json() as? [String: Any])
        #expect((report["problems"] as? [[String: Any]])?.count == 5)
        #expect(report["fixed"] as? Bool == true && report["dryRun"] as? Bool == false)
        #expect((report["ingested"] as? [String: Any])?["indexed"] as? Int == 1)
        #expect(FileManager.default.fileExists(atPath: store.appendingPathComponent("thumbnails").appendingPathComponent(lost).path))
        #expect(!FileManager.default.fileExists(atPath: stray.path))

        let again = try await CommandLineTests.run(["repair", "--dry-run"], in: folder)
        #expect(again.status == 0 && again.output.contains("nothing to repair"), "\(again.output)")
        // The people are those of the library before, with the unfinished photo now in its person.
        let after = try await InterruptionTests.partition(folder)
        #expect(after.count == before.count)
        #expect(after.contains { $0.contains("John_Simm-2.jpg") && $0.contains("John_Simm-0.jpg") })
        #expect(try await InterruptionTests.reference.value == after)
    }

    /// `face_edges` is read by no listing (`people` still answers after the damage); `face_vectors` is read
    /// whole when the library opens (so the check must come before); "" empties the file (SQLite takes an empty
    /// file for a new database: the library's tables were written over it, and repair deleted every thumbnail).
    @Test("a photo whose file is gone is listed as missing_original and kept (exit 1) until `delete PATH` takes it out")
    func missingOriginal() async throws {
        let folder = try InterruptionTests.folder()
        #expect(try await CommandLineTests.run(["ingest", "photos"], in: folder).status == 0)
        let gone = "photos/John_Simm-2.jpg"
        try FileManager.default.removeItem(at: folder.appendingPathComponent(gone))

        for arguments in [["repair", "--dry-run"], ["repair"]] {
            let found = try await CommandLineTests.run(arguments, in: folder)
            #expect(found.status == 1 && found.output.contains("missing_original \(folder.path)/\(gone): the file is gone"), "\(arguments): \(found.output)")
        }
        let json = try #require(try await CommandLineTests.run(["repair", "--json"], in: folder).json() as? [String: Any])
        #expect(json["fixed"] as? Bool == false && json["dryRun"] as? Bool == false, "a problem kept is not fixed: \(json)")
        let status = try await CommandLineTests.run(["photo", gone], in: folder)
        #expect(status.output.contains("indexed"), "repair kept it: \(status.output)")
        let listed = try await CommandLineTests.run(["status"], in: folder)
        #expect(listed.output.contains("\(gone): 1 face (its file is gone"), "\(listed.output)")
        #expect(try await CommandLineTests.run(["delete", gone], in: folder).status == 0)
        let sound = try await CommandLineTests.run(["repair"], in: folder)
        #expect(sound.status == 0 && sound.output.contains("The library is sound"), "\(sound.output)")
    }

    @Test("a damaged database is reported as damaged_database, with what to do, and nothing is written",
          arguments: ["face_edges", "face_vectors", ""])
    func damagedDatabase(table: String) async throws {
        let folder = try CommandLineTests.library()
        #expect(try await CommandLineTests.run(["ingest", "photos"], in: folder).status == 1, "the cut-off photo and the text file fail")
        #expect(try await CommandLineTests.run(["repair", "--dry-run"], in: folder).status == 0, "sound before the damage")

        let file = folder.appendingPathComponent(".facecluster/\(LocalLibrary.databaseFile)")
        let thumbnails = folder.appendingPathComponent(".facecluster/thumbnails").path
        let thumbnailCount = try FileManager.default.subpathsOfDirectory(atPath: thumbnails).count
        if table.isEmpty {
            try Data().write(to: file)
            let listed = try await CommandLineTests.run(["people"], in: folder)
            #expect(listed.status == 2 && listed.errors.contains("is empty (0 bytes)"), "\(listed.output) \(listed.errors)")
        } else {
            try Self.damage(table, of: file)
        }
        if table == "face_edges" {
            #expect(try await CommandLineTests.run(["people"], in: folder).status == 0, "the damage goes unnoticed by a listing")
        }
        let damaged = try Data(contentsOf: file)

        let check = try await CommandLineTests.run(["repair", "--dry-run"], in: folder)
        #expect(check.status == 1, "\(check.output)\n\(check.errors)")
        #expect(check.output.contains("database is damaged") && check.output.contains("damaged_database"), "\(check.output)")
        #expect(check.output.contains("from a backup"), "says what to do: \(check.output)")
        let repair = try await CommandLineTests.run(["repair", "--json"], in: folder)
        #expect(repair.status == 1, "\(repair.output)\n\(repair.errors)")
        let report = try #require(try repair.json() as? [String: Any])
        let problems = try #require(report["problems"] as? [[String: Any]])
        #expect(!problems.isEmpty && problems.allSatisfy { $0["kind"] as? String == "damaged_database" }, "\(problems)")
        #expect(report["fixed"] as? Bool == false)
        #expect(try Data(contentsOf: file) == damaged, "repair wrote nothing into the damaged file")
        #expect(try FileManager.default.subpathsOfDirectory(atPath: thumbnails).count == thumbnailCount, "nor removed a thumbnail")
    }

    /// Writes 0xFF over the b-tree header of `table`'s root page.
    static func damage(_ table: String, of file: URL) throws {
        let page: Int = try {
            let queue = try DatabaseQueue(path: file.path)
            defer { try? queue.close() }
            return try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                return try #require(try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = ?", arguments: [table]))
            }
        }()
        let handle = try FileHandle(forWritingTo: file)
        try handle.seek(toOffset: UInt64((page - 1) * 4096))
        try handle.write(contentsOf: Data(repeating: 0xFF, count: 8))  // the page's b-tree header
        try handle.close()
    }
}
