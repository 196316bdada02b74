import FaceClusterKit
import Foundation
import GRDB

/// A ``MetadataStore`` in a SQLite file (``LocalDatabase``): the embedded default's photos, people and
/// appearances. Every method is one transaction; SQLite runs write transactions one at a time, which gives
/// the conditional writes their atomicity. Counts are recomputed from the appearances in the same transaction
/// that changes them. Schema: `LocalDatabase.migrator`.
public struct SQLiteMetadataStore: MetadataStore {
    public let database: LocalDatabase
    private let clock: any WallClock

    public init(database: LocalDatabase, clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.clock = clock
    }


    // MARK: Photos

    public func photo(_ id: PhotoID) async throws -> Photo? {
        try await database.read { db in try Self.photo(id, db) }
    }

    @discardableResult
    public func savePhoto(_ photo: Photo, expectedRevision: Int?) async throws -> Photo {
        try await database.write { db in
            let stored = try Int.fetchOne(db.cachedStatement(sql: "SELECT revision FROM photos WHERE id = ?"), arguments: [photo.id.rawValue])
            guard stored == expectedRevision else { throw MetadataStoreError.conditionFailed }
            var saved = photo
            saved.revision = (expectedRevision ?? 0) + 1
            try db.executeCached(
                sql: "INSERT OR REPLACE INTO photos (id, status, revision, record) VALUES (?, ?, ?, ?)",
                arguments: [saved.id.rawValue, saved.status.kind.rawValue, saved.revision, try Self.json(saved)])
            return saved
        }
    }

    public func photos(_ ids: [PhotoID]) async throws -> [PhotoID: Photo] {
        try await database.read { db in
            try ids.reduce(into: [:]) { result, id in result[id] = try Self.photo(id, db) }
        }
    }

    public func photos(withStatus status: PhotoStatus.Kind?, page: PageRequest) async throws -> Page<Photo> {
        let query = "photos:" + (status?.rawValue ?? "*")
        let after = try page.cursor.map { try $0.position(for: query) }?.first ?? ""
        let records = try await database.read { db in
            if let status {
                return try String.fetchAll(
                    db.cachedStatement(sql: "SELECT record FROM photos WHERE status = ? AND id > ? ORDER BY id LIMIT ?"),
                    arguments: [status.rawValue, after, page.limit + 1])
            }
            return try String.fetchAll(
                db.cachedStatement(sql: "SELECT record FROM photos WHERE id > ? ORDER BY id LIMIT ?"), arguments: [after, page.limit + 1])
        }
        return Self.page(of: try records.map(Self.decodePhoto), limit: page.limit) { PageCursor(query: query, position: [$0.id.rawValue]) }
    }

    // MARK: Appearances

    @discardableResult
    public func addAppearance(_ appearance: Appearance, newPerson: Person?) async throws -> AppearanceWrite {
        try await database.write { db in
            if let existing = try Self.appearance(of: appearance.faceID, db) { return .alreadyRecorded(existing) }
            let personID = try Self.resolve(appearance.personID, db)
            if try Self.person(personID, db) == nil {
                guard var person = newPerson, try Self.resolve(person.id, db) == personID else {
                    throw MetadataStoreError.personNotFound(appearance.personID)
                }
                person.id = personID
                try Self.insert(person, db)
            }
            var stored = appearance
            stored.personID = personID
            try Self.insert(stored, db)
            try db.executeCached(
                sql: "UPDATE people SET cover_face_id = ?, cover_thumbnail_key = ? WHERE id = ? AND cover_face_id IS NULL",
                arguments: [stored.faceID.rawValue, stored.thumbnailKey, personID.rawValue])
            try Self.recount(personID, db)
            return .added(stored)
        }
    }

    @discardableResult
    public func removeAppearance(of faceID: FaceID) async throws -> Appearance? {
        try await database.write { db in
            guard let appearance = try Self.appearance(of: faceID, db) else { return nil }
            try db.executeCached(sql: "DELETE FROM appearances WHERE face_id = ?", arguments: [faceID.rawValue])
            try db.executeCached(sql: "DELETE FROM pending_matches WHERE face_id = ?", arguments: [faceID.rawValue])
            let personID = appearance.personID
            let next = try String.fetchOne(
                db.cachedStatement(sql: "SELECT MIN(face_id) FROM appearances WHERE person_id = ?"), arguments: [personID.rawValue])
            if let next {
                let key = try String.fetchOne(db.cachedStatement(sql: "SELECT thumbnail_key FROM appearances WHERE face_id = ?"), arguments: [next])
                try db.executeCached(
                    sql: "UPDATE people SET cover_face_id = ?, cover_thumbnail_key = ? WHERE id = ? AND cover_face_id = ?",
                    arguments: [next, key, personID.rawValue, faceID.rawValue])
                try Self.recount(personID, db)
            } else {
                try db.executeCached(sql: "DELETE FROM people WHERE id = ?", arguments: [personID.rawValue])
            }
            return appearance
        }
    }

    public func appearances(ofFaces faceIDs: [FaceID]) async throws -> [FaceID: Appearance] {
        try await database.read { db in
            try faceIDs.reduce(into: [:]) { result, id in result[id] = try Self.appearance(of: id, db) }
        }
    }

    public func appearances(inPhoto photoID: PhotoID) async throws -> [Appearance] {
        try await database.read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM appearances WHERE photo_id = ? ORDER BY face_id"), arguments: [photoID.rawValue])
                .map(Self.appearance(_:))
        }
    }

    public func appearances(ofPerson personID: PersonID, page: PageRequest) async throws -> Page<Appearance> {
        let query = "person-photos:" + personID.rawValue
        let after = try page.cursor.map { try $0.position(for: query) }.map { position -> (Double, String) in
            guard position.count == 2, let time = Double(position[0]) else { throw MetadataStoreError.invalidCursor }
            return (time, position[1])
        }
        let appearances = try await database.read { db in
            let resolved = try Self.resolve(personID, db)
            if let (time, face) = after {
                return try Row.fetchAll(
                    db.cachedStatement(sql: """
                        SELECT * FROM appearances WHERE person_id = ?
                          AND (photo_added_at < ? OR (photo_added_at = ? AND face_id > ?))
                        ORDER BY photo_added_at DESC, face_id LIMIT ?
                        """),
                    arguments: [resolved.rawValue, time, time, face, page.limit + 1]).map(Self.appearance(_:))
            }
            return try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM appearances WHERE person_id = ? ORDER BY photo_added_at DESC, face_id LIMIT ?"),
                arguments: [resolved.rawValue, page.limit + 1]).map(Self.appearance(_:))
        }
        return Self.page(of: appearances, limit: page.limit) {
            PageCursor(query: query, position: [String($0.photoAddedAt.timeIntervalSinceReferenceDate), $0.faceID.rawValue])
        }
    }

    // MARK: People

    public func person(_ id: PersonID) async throws -> Person? {
        try await database.read { db in try Self.person(try Self.resolve(id, db), db) }
    }

    public func people(page: PageRequest) async throws -> Page<Person> {
        let query = "people"
        let after = try page.cursor.map { try $0.position(for: query) }.map { position -> (Int, String) in
            guard position.count == 2, let count = Int(position[0]) else { throw MetadataStoreError.invalidCursor }
            return (count, position[1])
        }
        let people = try await database.read { db in
            if let (count, id) = after {
                return try Row.fetchAll(
                    db.cachedStatement(sql: """
                        SELECT * FROM people WHERE photo_count < ? OR (photo_count = ? AND id > ?)
                        ORDER BY photo_count DESC, id LIMIT ?
                        """),
                    arguments: [count, count, id, page.limit + 1]).map(Self.person(_:))
            }
            return try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM people ORDER BY photo_count DESC, id LIMIT ?"), arguments: [page.limit + 1])
                .map(Self.person(_:))
        }
        return Self.page(of: people, limit: page.limit) {
            PageCursor(query: query, position: [String($0.photoCount), $0.id.rawValue])
        }
    }

    public func renamePerson(_ id: PersonID, to name: String?) async throws -> Person {
        let now = clock.now()
        return try await database.write { db in
            let resolved = try Self.resolve(id, db)
            guard try Self.person(resolved, db) != nil else { throw MetadataStoreError.personNotFound(id) }
            try db.executeCached(
                sql: "UPDATE people SET name = ?, updated_at = ? WHERE id = ?",
                arguments: [name, now.timeIntervalSinceReferenceDate, resolved.rawValue])
            return try Self.person(resolved, db)!
        }
    }

    public func mergePeople(_ source: PersonID, into target: PersonID, requireDisjointPhotos: Bool) async throws -> Person {
        let now = clock.now()
        return try await database.write { db in
            let from = try Self.resolve(source, db), into = try Self.resolve(target, db)
            guard let sourcePerson = try Self.person(from, db) else { throw MetadataStoreError.personNotFound(source) }
            guard let targetPerson = try Self.person(into, db) else { throw MetadataStoreError.personNotFound(target) }
            if from == into { return targetPerson }
            if requireDisjointPhotos {
                let shared = try Bool.fetchOne(db.cachedStatement(sql: """
                    SELECT EXISTS (SELECT 1 FROM appearances a JOIN appearances b ON a.photo_id = b.photo_id
                                   WHERE a.person_id = ? AND b.person_id = ?)
                    """), arguments: [from.rawValue, into.rawValue]) ?? false
                if shared { throw MetadataStoreError.peopleShareAPhoto(from, into) }
            }
            try db.executeCached(sql: "UPDATE appearances SET person_id = ? WHERE person_id = ?", arguments: [into.rawValue, from.rawValue])
            try db.executeCached(
                sql: "UPDATE people SET name = ?, created_at = ?, updated_at = ?, pinned = ? WHERE id = ?",
                arguments: [
                    targetPerson.name ?? sourcePerson.name, min(targetPerson.createdAt, sourcePerson.createdAt).timeIntervalSinceReferenceDate,
                    now.timeIntervalSinceReferenceDate, targetPerson.pinned || sourcePerson.pinned, into.rawValue,
                ])
            try db.executeCached(sql: "DELETE FROM people WHERE id = ?", arguments: [from.rawValue])
            try db.executeCached(sql: "INSERT OR REPLACE INTO person_redirects (from_id, to_id) VALUES (?, ?)", arguments: [from.rawValue, into.rawValue])
            try Self.recount(into, db)
            return try Self.person(into, db)!
        }
    }

    @discardableResult
    public func moveAppearance(of faceID: FaceID, to personID: PersonID, newPerson: Person?) async throws -> Appearance? {
        try await database.write { db in
            guard var appearance = try Self.appearance(of: faceID, db) else { return nil }
            if var person = newPerson, try Self.person(personID, db) == nil {
                try db.executeCached(sql: "DELETE FROM person_redirects WHERE from_id = ?", arguments: [personID.rawValue])
                person.id = personID
                person.photoCount = 0
                person.faceCount = 0
                person.coverFaceID = nil
                person.coverThumbnailKey = nil
                try Self.insert(person, db)
            }
            let target = try Self.resolve(personID, db)
            guard try Self.person(target, db) != nil else { throw MetadataStoreError.personNotFound(personID) }
            let source = appearance.personID
            if source == target { return appearance }
            try db.executeCached(sql: "UPDATE appearances SET person_id = ? WHERE face_id = ?", arguments: [target.rawValue, faceID.rawValue])
            appearance.personID = target
            try db.executeCached(
                sql: "UPDATE people SET cover_face_id = ?, cover_thumbnail_key = ? WHERE id = ? AND cover_face_id IS NULL",
                arguments: [faceID.rawValue, appearance.thumbnailKey, target.rawValue])
            try Self.recount(target, db)
            if let next = try String.fetchOne(
                db.cachedStatement(sql: "SELECT MIN(face_id) FROM appearances WHERE person_id = ?"), arguments: [source.rawValue]) {
                let key = try String.fetchOne(db.cachedStatement(sql: "SELECT thumbnail_key FROM appearances WHERE face_id = ?"), arguments: [next])
                try db.executeCached(
                    sql: "UPDATE people SET cover_face_id = ?, cover_thumbnail_key = ? WHERE id = ? AND cover_face_id = ?",
                    arguments: [next, key, source.rawValue, faceID.rawValue])
                try Self.recount(source, db)
            } else {
                try db.executeCached(sql: "DELETE FROM people WHERE id = ?", arguments: [source.rawValue])
            }
            return appearance
        }
    }

    // MARK: Face graph

    public func recordEdges(_ edges: [FaceEdge]) async throws {
        guard !edges.isEmpty else { return }
        try await database.write { db in
            for edge in edges where edge.a != edge.b {
                try db.executeCached(
                    sql: """
                        INSERT INTO face_edges (a, b, similarity) VALUES (?, ?, ?)
                        ON CONFLICT (a, b) DO UPDATE SET similarity = excluded.similarity
                        """,
                    arguments: [edge.a.rawValue, edge.b.rawValue, edge.similarity])
            }
        }
    }

    public func edges(touching faceIDs: [FaceID]) async throws -> [FaceEdge] {
        try await rows(of: "face_edges", columns: "a, b, similarity", touching: faceIDs) {
            FaceEdge(FaceID(rawValue: $0["a"]), FaceID(rawValue: $0["b"]), similarity: $0["similarity"])
        }
            .sorted { ($0.a, $0.b) < ($1.a, $1.b) }
    }

    /// The rows of a pair table (`a`, `b`, …) with either face in `faceIDs`, each once (400 ids a query), as `value`s.
    private func rows<T: Sendable>(of table: String, columns: String, touching faceIDs: [FaceID], _ value: @escaping @Sendable (Row) -> T) async throws -> [T] {
        let ids = Array(Set(faceIDs.map(\.rawValue)))
        guard !ids.isEmpty else { return [] }
        return try await database.read { db in
            var rows: [T] = []
            for chunk in stride(from: 0, to: ids.count, by: 400).map({ Array(ids[$0..<min($0 + 400, ids.count)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                rows += try Row.fetchAll(
                    db, sql: "SELECT \(columns) FROM \(table) WHERE a IN (\(marks)) UNION SELECT \(columns) FROM \(table) WHERE b IN (\(marks))",
                    arguments: StatementArguments(chunk + chunk)).map(value)
            }
            return rows
        }
    }

    public func removeEdges(touching faceIDs: [FaceID]) async throws {
        guard !faceIDs.isEmpty else { return }
        try await database.write { db in
            for id in Set(faceIDs) {
                try db.executeCached(sql: "DELETE FROM face_edges WHERE a = ? OR b = ?", arguments: [id.rawValue, id.rawValue])
            }
        }
    }

    // MARK: Repair

    @discardableResult
    public func recountPerson(_ id: PersonID) async throws -> Person? {
        try await database.write { db in
            let resolved = try Self.resolve(id, db)
            guard try Self.person(resolved, db) != nil else { return nil }
            guard let first = try String.fetchOne(
                db.cachedStatement(sql: "SELECT MIN(face_id) FROM appearances WHERE person_id = ?"), arguments: [resolved.rawValue])
            else {
                try db.executeCached(sql: "DELETE FROM people WHERE id = ?", arguments: [resolved.rawValue])
                return nil
            }
            try db.executeCached(
                sql: """
                    UPDATE people SET cover_face_id = ?, cover_thumbnail_key = (SELECT thumbnail_key FROM appearances WHERE face_id = ?)
                    WHERE id = ? AND (cover_face_id IS NULL OR cover_face_id NOT IN (SELECT face_id FROM appearances WHERE person_id = ?))
                    """,
                arguments: [first, first, resolved.rawValue, resolved.rawValue])
            try Self.recount(resolved, db)
            return try Self.person(resolved, db)
        }
    }

    @discardableResult
    public func updatePerson(_ person: Person) async throws -> Person {
        let now = clock.now()
        return try await database.write { db in
            let resolved = try Self.resolve(person.id, db)
            guard try Self.person(resolved, db) != nil else { throw MetadataStoreError.personNotFound(person.id) }
            try db.executeCached(
                sql: """
                    UPDATE people SET name = ?, pinned = ?, created_at = ?, updated_at = ?,
                      cover_face_id = COALESCE((SELECT face_id FROM appearances WHERE face_id = ? AND person_id = ?), cover_face_id),
                      cover_thumbnail_key = COALESCE((SELECT thumbnail_key FROM appearances WHERE face_id = ? AND person_id = ?), cover_thumbnail_key)
                    WHERE id = ?
                    """,
                arguments: [
                    person.name, person.pinned, person.createdAt.timeIntervalSinceReferenceDate, now.timeIntervalSinceReferenceDate,
                    person.coverFaceID?.rawValue, resolved.rawValue, person.coverFaceID?.rawValue, resolved.rawValue, resolved.rawValue,
                ])
            return try Self.person(resolved, db)!
        }
    }

    // MARK: Constraints

    public func recordCannotLinks(_ pairs: [FacePair]) async throws {
        guard !pairs.isEmpty else { return }
        try await database.write { db in
            for pair in pairs where pair.a != pair.b {
                try db.executeCached(sql: "INSERT OR IGNORE INTO face_cannot_links (a, b) VALUES (?, ?)", arguments: [pair.a.rawValue, pair.b.rawValue])
            }
        }
    }

    public func cannotLinks(touching faceIDs: [FaceID]) async throws -> [FacePair] {
        Array(Set(try await rows(of: "face_cannot_links", columns: "a, b", touching: faceIDs) {
            FacePair(FaceID(rawValue: $0["a"]), FaceID(rawValue: $0["b"]))
        })).sorted()
    }

    public func removeCannotLinks(_ pairs: [FacePair]) async throws {
        guard !pairs.isEmpty else { return }
        try await database.write { db in
            for pair in pairs {
                try db.executeCached(sql: "DELETE FROM face_cannot_links WHERE a = ? AND b = ?", arguments: [pair.a.rawValue, pair.b.rawValue])
            }
        }
    }

    // MARK: Journal

    public func saveOperation(_ operation: PeopleOperation) async throws {
        let record = String(decoding: try JSONEncoder().encode(operation), as: UTF8.self)
        try await database.write { db in
            try db.executeCached(sql: "INSERT OR REPLACE INTO operations (id, record) VALUES (?, ?)", arguments: [operation.id, record])
        }
    }

    public func operation(_ id: String) async throws -> PeopleOperation? {
        try await database.read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT record FROM operations WHERE id = ?"), arguments: [id])
        }.map { try JSONDecoder().decode(PeopleOperation.self, from: Data($0.utf8)) }
    }

    public func operations(page: PageRequest) async throws -> Page<PeopleOperation> {
        let query = "operations"
        let before = try page.cursor.map { try $0.position(for: query) }?.first
        let records = try await database.read { db in
            if let before {
                return try String.fetchAll(
                    db.cachedStatement(sql: "SELECT record FROM operations WHERE id < ? ORDER BY id DESC LIMIT ?"), arguments: [before, page.limit + 1])
            }
            return try String.fetchAll(db.cachedStatement(sql: "SELECT record FROM operations ORDER BY id DESC LIMIT ?"), arguments: [page.limit + 1])
        }
        let operations = try records.map { try JSONDecoder().decode(PeopleOperation.self, from: Data($0.utf8)) }
        return Self.page(of: operations, limit: page.limit) { PageCursor(query: query, position: [$0.id]) }
    }

    // MARK: Pending matches

    public func recordPendingMatch(_ match: PendingMatch) async throws {
        try await database.write { db in
            try db.executeCached(
                sql: "INSERT OR IGNORE INTO pending_matches (face_id, matched_by, matcher_founded) VALUES (?, ?, ?)",
                arguments: [match.face.rawValue, match.matchedBy.rawValue, match.matcherFoundedPerson])
        }
    }

    public func pendingMatches(for faceID: FaceID) async throws -> [PendingMatch] {
        try await database.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM pending_matches WHERE face_id = ? ORDER BY matched_by, matcher_founded DESC"),
                arguments: [faceID.rawValue]
            ).map { row in
                PendingMatch(face: faceID, matchedBy: PersonID(rawValue: row["matched_by"]), matcherFoundedPerson: row["matcher_founded"])
            }
        }
    }

    // MARK: Rows

    private static func resolve(_ id: PersonID, _ db: Database) throws -> PersonID {
        var current = id.rawValue
        for _ in 0..<10_000 {
            guard let next = try String.fetchOne(db.cachedStatement(sql: "SELECT to_id FROM person_redirects WHERE from_id = ?"), arguments: [current])
            else { break }
            current = next
        }
        return PersonID(rawValue: current)
    }

    private static func recount(_ personID: PersonID, _ db: Database) throws {
        try db.executeCached(sql: """
            UPDATE people SET
              face_count = (SELECT COUNT(*) FROM appearances WHERE person_id = :id),
              photo_count = (SELECT COUNT(DISTINCT photo_id) FROM appearances WHERE person_id = :id)
            WHERE id = :id
            """, arguments: ["id": personID.rawValue])
    }

    private static func photo(_ id: PhotoID, _ db: Database) throws -> Photo? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT record FROM photos WHERE id = ?"), arguments: [id.rawValue]).map(decodePhoto)
    }

    private static func person(_ id: PersonID, _ db: Database) throws -> Person? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM people WHERE id = ?"), arguments: [id.rawValue]).map(person(_:))
    }

    private static func appearance(of faceID: FaceID, _ db: Database) throws -> Appearance? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM appearances WHERE face_id = ?"), arguments: [faceID.rawValue]).map(appearance(_:))
    }

    private static func insert(_ person: Person, _ db: Database) throws {
        try db.executeCached(
            sql: """
                INSERT INTO people (id, name, photo_count, face_count, cover_face_id, cover_thumbnail_key, created_at, updated_at, pinned)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                person.id.rawValue, person.name, person.photoCount, person.faceCount, person.coverFaceID?.rawValue,
                person.coverThumbnailKey, person.createdAt.timeIntervalSinceReferenceDate, person.updatedAt.timeIntervalSinceReferenceDate,
                person.pinned,
            ])
    }

    private static func insert(_ appearance: Appearance, _ db: Database) throws {
        let box = appearance.boundingBox
        try db.executeCached(
            sql: """
                INSERT INTO appearances (face_id, person_id, photo_id, box_left, box_top, box_width, box_height,
                                         thumbnail_key, confidence, matched_face_id, similarity, photo_added_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                appearance.faceID.rawValue, appearance.personID.rawValue, appearance.photoID.rawValue, box.left, box.top,
                box.width, box.height, appearance.thumbnailKey, appearance.confidence, appearance.matchedFaceID?.rawValue,
                appearance.similarity, appearance.photoAddedAt.timeIntervalSinceReferenceDate,
            ])
    }

    private static func person(_ row: Row) -> Person {
        Person(
            id: PersonID(rawValue: row["id"]), name: row["name"], photoCount: row["photo_count"], faceCount: row["face_count"],
            coverFaceID: (row["cover_face_id"] as String?).map(FaceID.init(rawValue:)), coverThumbnailKey: row["cover_thumbnail_key"],
            createdAt: Date(timeIntervalSinceReferenceDate: row["created_at"]), updatedAt: Date(timeIntervalSinceReferenceDate: row["updated_at"]),
            pinned: row["pinned"])
    }

    private static func appearance(_ row: Row) -> Appearance {
        Appearance(
            faceID: FaceID(rawValue: row["face_id"]), personID: PersonID(rawValue: row["person_id"]), photoID: PhotoID(rawValue: row["photo_id"]),
            boundingBox: BoundingBox(left: row["box_left"], top: row["box_top"], width: row["box_width"], height: row["box_height"]),
            thumbnailKey: row["thumbnail_key"], confidence: row["confidence"],
            matchedFaceID: (row["matched_face_id"] as String?).map(FaceID.init(rawValue:)), similarity: row["similarity"],
            photoAddedAt: Date(timeIntervalSinceReferenceDate: row["photo_added_at"]))
    }

    private static func json(_ photo: Photo) throws -> String {
        String(decoding: try JSONEncoder().encode(photo), as: UTF8.self)
    }

    private static func decodePhoto(_ text: String) throws -> Photo {
        try JSONDecoder().decode(Photo.self, from: Data(text.utf8))
    }

    private static func page<T: Sendable>(of rows: [T], limit: Int, cursor: (T) -> PageCursor) -> Page<T> {
        let items = Array(rows.prefix(limit))
        return Page(items: items, nextCursor: rows.count > limit ? items.last.map(cursor) : nil)
    }
}
