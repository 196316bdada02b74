import FaceClusterKit
import Foundation
import GRDB
import NIOPosix

/// The SQLite file that holds the embedded default's state: the face vectors of ``LocalFaceEngine`` and the
/// photos, people and appearances of ``SQLiteMetadataStore``. WAL mode, so readers never wait for the writer.
public struct LocalDatabase: Sendable {
    public let writer: any DatabaseWriter

    /// Opens (creating when needed) the database at `path` and brings its schema up to date.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // WAL with synchronous NORMAL (SQLite's recommendation for WAL): a commit survives any crash of this
        // process; only a power loss can take back the last ones, which ingestion redoes (every step is
        // idempotent). FULL would sync the disk on each of the ~8 commits a photo makes.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        // Switching a new file to WAL takes a lock the busy timeout does not wait for: a second process
        // opening the same new library at that moment tries again.
        var attempt = 0
        while true {
            do {
                try self.init(writer: DatabasePool(path: path, configuration: configuration))
                return
            } catch let error as DatabaseError where attempt < 20 && error.resultCode == .SQLITE_BUSY {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            }
        }
    }

    /// Runs `body` in a read transaction on a thread of the database's own pool, through GRDB's synchronous API.
    ///
    /// Not GRDB's `async` methods on Swift's cooperative threads: a `DatabasePool` lends at most 5 reader
    /// connections and waits for a free one by blocking its thread, so 8 concurrent reads on the 2 cooperative
    /// threads of a 2-core machine deadlocked `facecluster serve` (the readers' completions had no thread left
    /// to run on). Here a read blocks one of the pool's threads at most, and readers are given back synchronously.
    public func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let writer = self.writer
        let work: @Sendable () throws -> T = { try writer.read(body) }
        if BlockingWork.runsInline { return try work() }
        return try await Self.threads.runIfActive(work)
    }

    /// Runs `body` in a write transaction (SQLite serializes them) on a thread of the database's own pool.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let writer = self.writer
        let work: @Sendable () throws -> T = { try writer.write(body) }
        if BlockingWork.runsInline { return try work() }
        return try await Self.threads.runIfActive(work)
    }

    /// Whether the file at `path` has 0 bytes; `nil` when it cannot be read.
    public static func isEmptyFile(_ path: String) -> Bool? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return status.st_size == 0
    }

    /// What SQLite's own check of the database file at `path` finds wrong (`PRAGMA integrity_check`: every page,
    /// b-tree, index entry, and NOT NULL and UNIQUE constraint), at most `limit` findings; empty when it is sound.
    ///
    /// A damaged page that no query touches goes unnoticed otherwise: `people` and `status` answer, and only the
    /// rows behind it are lost. Checked on a read-only connection of its own, before the library is opened:
    /// opening it reads every face vector (a damaged page there stops it) and, as a GRDB `DatabasePool`, writes
    /// (it creates and drops a table so that the WAL files exist). A file SQLite cannot open at all is one
    /// finding. Reads the whole file once (a library of 100 photos, 1 MB: a few milliseconds; it grows with the
    /// file), on an IO thread. `facecluster repair` runs it first.
    public static func integrityProblems(ofFileAt path: String, limit: Int = 20) async throws -> [String] {
        try await BlockingWork.io {
            // SQLite takes an empty file for a sound, empty database; a library's never is (its tables are
            // written when it is created).
            if isEmptyFile(path) == true { return ["the file is empty (0 bytes): the library's tables and rows are gone"] }
            var configuration = Configuration()
            configuration.readonly = true
            var messages: [String] = []
            do {
                let queue = try DatabaseQueue(path: path, configuration: configuration)
                defer { try? queue.close() }
                // The check reports what it finds row by row, and may then stop on a page it cannot read at all.
                // Outside a transaction: committing one that read a damaged page fails again, and hides the findings.
                try queue.inDatabase { db in
                    do {
                        let rows = try String.fetchCursor(db, sql: "PRAGMA integrity_check(\(max(1, limit)))")
                        // A row may hold several findings, a line each, under a "*** in database main ***" heading.
                        while let row = try rows.next() {
                            messages += row.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("*** in database") }
                        }
                    } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
                        messages.append("the check stopped: \(error.message ?? "\(error.resultCode)")")
                    }
                }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
                messages.append("SQLite cannot open it: \(error.message ?? "\(error.resultCode)")")
            }
            guard messages != ["ok"] else { return [] }
            return messages.count <= limit ? messages : messages.prefix(limit) + ["… and \(messages.count - limit) more"]
        }
    }

    /// As many threads as the pool has reader connections (GRDB's default `maximumReaderCount`, 5): a read never
    /// waits for a connection while holding a thread another read needs.
    private static let threads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 5)
        pool.start()
        return pool
    }()

    /// A private in-memory database (tests, `facecluster evaluate`).
    public static func inMemory() throws -> LocalDatabase {
        try LocalDatabase(writer: DatabaseQueue())
    }

    init(writer: any DatabaseWriter) throws {
        self.writer = writer
        // Two processes opening a new library at once both see no migration applied; the one that loses the
        // race finds the tables there. Reading the applied migrations again settles it.
        var attempt = 0
        while true {
            do {
                try Self.migrator.migrate(writer)
                return
            } catch let error as DatabaseError where attempt < 5 && (error.resultCode == .SQLITE_ERROR || error.resultCode == .SQLITE_BUSY) {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            }
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-face-vectors") { db in
            try db.execute(sql: """
                CREATE TABLE face_vectors (
                    face_id TEXT PRIMARY KEY NOT NULL,
                    external_image_id TEXT NOT NULL,
                    embedding BLOB NOT NULL
                ) WITHOUT ROWID
                """)
        }
        migrator.registerMigration("v1-metadata") { db in
            // A photo's record is JSON (its status, lease, skipped faces and face ids change together, always
            // under the revision's compare-and-set); what is queried or ordered on has its own column.
            try db.execute(sql: """
                CREATE TABLE photos (
                    id TEXT PRIMARY KEY NOT NULL,
                    status TEXT NOT NULL,
                    revision INTEGER NOT NULL,
                    record TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX photos_by_status ON photos (status, id);

                CREATE TABLE people (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT,
                    photo_count INTEGER NOT NULL,
                    face_count INTEGER NOT NULL,
                    cover_face_id TEXT,
                    cover_thumbnail_key TEXT,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX people_by_photo_count ON people (photo_count DESC, id);

                CREATE TABLE appearances (
                    face_id TEXT PRIMARY KEY NOT NULL,
                    person_id TEXT NOT NULL,
                    photo_id TEXT NOT NULL,
                    box_left REAL NOT NULL,
                    box_top REAL NOT NULL,
                    box_width REAL NOT NULL,
                    box_height REAL NOT NULL,
                    thumbnail_key TEXT NOT NULL,
                    confidence REAL NOT NULL,
                    matched_face_id TEXT,
                    similarity REAL,
                    photo_added_at REAL NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX appearances_by_person ON appearances (person_id, photo_added_at DESC, face_id);
                CREATE INDEX appearances_by_photo ON appearances (photo_id, face_id);

                -- A merged-away person id and the person it was merged into.
                CREATE TABLE person_redirects (
                    from_id TEXT PRIMARY KEY NOT NULL,
                    to_id TEXT NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE pending_matches (
                    face_id TEXT NOT NULL,
                    matched_by TEXT NOT NULL,
                    matcher_founded INTEGER NOT NULL,
                    PRIMARY KEY (face_id, matched_by, matcher_founded)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2-face-graph") { db in
            // Undirected edges, the smaller face id first (FaceEdge).
            try db.execute(sql: """
                CREATE TABLE face_edges (
                    a TEXT NOT NULL,
                    b TEXT NOT NULL,
                    similarity REAL NOT NULL,
                    PRIMARY KEY (a, b)
                ) WITHOUT ROWID;
                CREATE INDEX face_edges_by_b ON face_edges (b, a);
                """)
        }
        migrator.registerMigration("v3-pins-constraints-journal") { db in
            try db.execute(sql: """
                ALTER TABLE people ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;

                -- "Not this person": two faces a user said are not one person (the smaller id first).
                CREATE TABLE face_cannot_links (
                    a TEXT NOT NULL,
                    b TEXT NOT NULL,
                    PRIMARY KEY (a, b)
                ) WITHOUT ROWID;
                CREATE INDEX face_cannot_links_by_b ON face_cannot_links (b, a);

                -- The journal of people operations; ids sort by time.
                CREATE TABLE operations (
                    id TEXT PRIMARY KEY NOT NULL,
                    record TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }
}
