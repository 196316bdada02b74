import FaceClusterKit
import Foundation

/// The embedded default, wired: a folder holding a SQLite database (photos, people, appearances and face
/// vectors) and the face thumbnails (`thumbnails/people/<personId>/<faceId>.jpg`); photos are read where they
/// are (a ``DirectoryPhotoStore`` rooted at `/`), never copied. What `facecluster` runs on; usable from any
/// Swift program.
public struct LocalLibrary: Sendable {
    public let directory: URL
    public let database: LocalDatabase
    public let engine: LocalFaceEngine
    public let metadata: SQLiteMetadataStore
    /// Photos, by absolute path (keys are paths without the leading `/`).
    public let originals: DirectoryPhotoStore
    public let thumbnails: DirectoryPhotoStore
    public let pipeline: IngestionPipeline
    public let gallery: Gallery

    /// The pipeline's defaults for a library on this machine: leases name this process, and a photo left
    /// `processing` by a process that has exited (Ctrl-C twice, `kill -9`, a crash) is taken over at once.
    public static let pipelineDefaults = IngestionPipeline.Configuration(worker: .current, reclaimsLeasesOfExitedProcesses: true)

    /// The database file's name inside ``directory``.
    public static let databaseFile = "facecluster.sqlite"

    /// Opens the library in `directory`, creating it when needed. Throws ``LocalEngineError/modelsMissing(directory:)``
    /// when the face models are not installed (scripts/fetch-models.sh).
    public init(
        directory: URL, models: FaceModels = FaceModels(), configuration: IngestionPipeline.Configuration = LocalLibrary.pipelineDefaults,
        engine: LocalFaceEngine.Configuration = .init(), inMemoryDatabase: Bool = false
    ) throws {
        try models.check()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory.standardizedFileURL
        database = inMemoryDatabase
            ? try LocalDatabase.inMemory() : try LocalDatabase(path: directory.appendingPathComponent(Self.databaseFile).path)
        self.engine = try LocalFaceEngine(models: models, database: database, configuration: engine)
        metadata = SQLiteMetadataStore(database: database)
        originals = DirectoryPhotoStore(root: URL(fileURLWithPath: "/"))
        thumbnails = DirectoryPhotoStore(root: directory.appendingPathComponent("thumbnails"))
        pipeline = IngestionPipeline(
            photos: originals, thumbnails: thumbnails, detector: self.engine, index: self.engine, metadata: metadata,
            cropper: TurboJPEGThumbnailCropper(), configuration: configuration)
        gallery = Gallery(metadata: metadata, photos: originals, thumbnails: thumbnails, index: self.engine)
    }

    /// The reference of a photo file (its absolute path, symlinks resolved).
    public func reference(forFile file: URL) -> PhotoReference? {
        originals.key(for: file).map { PhotoReference(store: originals.location, key: $0) }
    }

    /// The file a photo reference points at.
    public func file(of reference: PhotoReference) -> URL {
        URL(fileURLWithPath: "/" + reference.key)
    }
}
