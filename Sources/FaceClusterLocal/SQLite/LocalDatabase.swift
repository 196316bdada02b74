import Foundation
import GRDB

/// The SQLite file that holds the embedded default's state: the face vectors of ``LocalFaceEngine`` and the
/// photos, people and appearances of ``SQLiteMetadataStore``. WAL mode, so readers never wait for the writer.
public struct LocalDatabase: Sendable {
    public let writer: any DatabaseWriter

    /// Opens (creating when needed) the database at `path` and brings its schema up to date.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        try self.init(writer: DatabasePool(path: path, configuration: configuration))
    }

    /// A private in-memory database (tests, `facecluster evaluate`).
    public static func inMemory() throws -> LocalDatabase {
        try LocalDatabase(writer: DatabaseQueue())
    }

    init(writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
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
        return migrator
    }
}
