import FaceClusterKit
import Foundation

/// The embedded default, wired: a folder holding a SQLite database (photos, people, appearances and face
/// vectors) and the face thumbnails (`thumbnails/people/<personId>/<faceId>.jpg`); photos are read where they
/// are (a ``DirectoryPhotoStore`` rooted at `/`), never copied. What `facecluster` runs on; usable from any
/// Swift program.
public struct LocalLibrary: Sendable {
    /// How many photos an ingest (`--jobs`) analyses at once by default: one per core. Each analysis — decoding,
    /// HOG detection, landmarks and the ResNet embedding — keeps a core busy on an engine thread of its own
    /// (``LocalFaceEngine/Configuration/engines``); ``photosInFlight(jobs:)`` keeps two photos a job in flight.
    public static var defaultJobs: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// How many photos an ingest of `jobs` analyses at once keeps in flight: two a job, one analysed while the other
    /// waits its turn or has its records written. Outside its analysis a photo spends 5–6 ms (median, lfw10's
    /// 250 px photos) mostly waiting, not computing: its claim, checkpoints and records each wait their turn at
    /// SQLite's one writer, its thumbnail is written and synced, and each step hops between threads — threads that
    /// get a core only when an engine's thread lets go of one, since the engines keep every core busy. With only
    /// `jobs` photos in flight an engine sat idle for that time after every photo (about 14 % of a 35 ms analysis).
    /// With one more (the rule until 2026-12-03) the cores were still idle 5.1–7.7 % of the middle second of an
    /// lfw10 ingest (/proc/stat, six runs), engines waiting for a photo whose claim was still queued; with two a job,
    /// 0.5–6.1 % (median 1.5 %). Measured on the development machine's 2 cores (`ingest --jobs 2`, the same 2
    /// engines, 3 → 4 photos in flight; alternating runs of the two builds): lfw10's 100 photos 1.410 → 1.315 s
    /// (medians of 12; 1.30–1.56 and 1.22–1.55 s), the labeled set's 61 photos 0.955 → 0.875 s (medians of 8;
    /// 0.87–1.04 and 0.80–0.96 s); 5 or 7 in flight gave nothing more than 4 (`--jobs 4` and `--jobs 6`, which
    /// keep 2 engines: lfw10 1.540 and 1.550 s against 1.545 s at 4, medians of 12 in one slower hour); the 36 photos
    /// of 0.2–3.4 MP of `scripts/bench-grouping.sh` peak at 173–184 MB against 168–182 MB. One job keeps 2 in
    /// flight, as before (measured when 2 → 3 in flight became the rule: lfw10 2.18–2.48 → 1.84–2.32 s; five
    /// 48–100 MP photos the same 29.6–29.9 s and 333–335 MB at peak, analyses taking turns for memory,
    /// ``DecodeMemoryGate``).
    public static func photosInFlight(jobs: Int) -> Int { 2 * jobs }

    /// How many engines (``LocalFaceEngine/Configuration/engines``) analyse the photos of an ingest of `jobs`: one
    /// each, up to one per core. More analyses than cores would only take turns on them, and each engine holds
    /// its network's activations and scratch (the weights are shared: lfw10's peak 111–114 MB with one engine,
    /// 116–122 MB with two) and, in a big photo's tiled pass, up to about 270 MB more; a larger `jobs` still adds
    /// photos in flight.
    public static func engines(jobs: Int) -> Int { min(jobs, ProcessInfo.processInfo.activeProcessorCount) }

    public let directory: URL
    public let database: LocalDatabase
    public let engine: LocalFaceEngine
    public let metadata: SQLiteMetadataStore
    /// Photos, by absolute path (keys are paths without the leading `/`).
    public let originals: DirectoryPhotoStore
    public let thumbnails: DirectoryPhotoStore
    public let pipeline: IngestionPipeline
    public let gallery: Gallery
    /// The library's lock, taken by consolidation and by people operations (``Gallery/storeLock``).
    public let lock: LibraryLock

    /// The pipeline's defaults for a library on this machine: leases name this process, and a photo left
    /// `processing` by a process that has exited (Ctrl-C twice, `kill -9`, a crash) is taken over at once.
    /// Grouping: the engine's calibrated join thresholds (a face and a person of two or more faces, or two groups:
    /// mean distance 0.57, similarity ≈ 89.6; two single faces: 0.55, similarity 90), matches down to distance 0.66
    /// kept as the face graph's review band, and faces seen once wait unassigned
    /// (``GroupingPolicy/minimumFacesPerPerson`` 2: the largest value that hides no one photographed twice; see
    /// `Docs/grouping.md`).
    public static let pipelineDefaults = IngestionPipeline.Configuration(
        policy: GroupingPolicy(
            faceMatchThreshold: LocalFaceEngine.similarity(distance: LocalFaceEngine.groupMatchDistance),
            singleFaceMargin: LocalFaceEngine.similarity(distance: LocalFaceEngine.matchDistance)
                - LocalFaceEngine.similarity(distance: LocalFaceEngine.groupMatchDistance),
            reviewThreshold: LocalFaceEngine.similarity(distance: LocalFaceEngine.reviewDistance),
            minimumFacesPerPerson: 2),
        worker: .current, reclaimsLeasesOfExitedProcesses: true)

    /// Extensions of the files a folder scan (`ingest`, `serve --watch`) takes as photos; the rest of a folder
    /// (sidecars, videos, notes: `.json`, `.xmp`, `.aae`, `.mov`, `.mp4`, `.txt`, …) is passed over.
    public static let photoExtensions: Set<String> = ["jpg", "jpeg", "jpe", "jfif", "png", "webp", "heic", "heif", "avif", "gif", "tif", "tiff", "bmp"]

    /// Extensions of the files that travel with photos and are never photos themselves: sidecars (`.json` from
    /// Google Takeout, `.xmp`, `.aae`, `.thm`, `.dop`, `.pp3`), videos and their proxies, notes and the files
    /// operating systems leave in folders. Such a file is passed over even when named on the command line, where
    /// a shell's `*` puts it (`facecluster ingest Takeout/*`); any other file named there is tried by its content.
    public static let companionExtensions: Set<String> = [
        "json", "xmp", "aae", "thm", "dop", "pp3", "xml", "mov", "mp4", "m4v", "3gp", "avi", "mkv", "webm", "mts", "m2ts",
        "lrv", "insv", "wav", "mp3", "m4a", "srt", "txt", "md", "pdf", "html", "htm", "csv", "ini", "db", "ds_store", "zip",
    ]

    /// Whether `file`'s name had bytes that are not UTF-8: Foundation lists them as U+FFFD, a name that then finds
    /// no file. A library's keys are UTF-8 (S3's rule), so a folder scan (`ingest`, `serve --watch`) reports such a
    /// file (``notUTF8Name``) instead of taking it.
    public static func nameIsNotUTF8(_ file: URL) -> Bool { file.lastPathComponent.contains("\u{FFFD}") }

    /// Why a file whose name is not UTF-8 is not taken, and what to do.
    public static let notUTF8Name = "its name is not valid UTF-8 (rename it, e.g. with convmv -f latin1 -t utf8)"

    /// The database file's name inside ``directory``.
    public static let databaseFile = "facecluster.sqlite"

    /// Opens the library in `directory`, creating it when needed. Throws ``LocalEngineError/modelsMissing(directory:)``
    /// when the face models are not installed (scripts/fetch-models.sh), ``LibraryFileError`` when the folder cannot
    /// be created (a file in its way, no permission).
    public init(
        directory: URL, models: FaceModels = FaceModels(), configuration: IngestionPipeline.Configuration = LocalLibrary.pipelineDefaults,
        engine: LocalFaceEngine.Configuration = .init(), inMemoryDatabase: Bool = false, analysisCache: LocalFaceEngine.AnalysisCache? = nil,
        cropper: any ThumbnailCropper = TurboJPEGThumbnailCropper(decoders: .local), onLockWait: (@Sendable () -> Void)? = nil
    ) throws {
        try models.check()
        try LibraryFileError.createStore(directory)
        self.directory = directory.standardizedFileURL
        database = inMemoryDatabase
            ? try LocalDatabase.inMemory() : try LocalDatabase(path: directory.appendingPathComponent(Self.databaseFile).path)
        self.engine = try LocalFaceEngine(models: models, database: database, configuration: engine, cache: analysisCache)
        metadata = SQLiteMetadataStore(database: database)
        originals = DirectoryPhotoStore(root: URL(fileURLWithPath: "/"))
        thumbnails = DirectoryPhotoStore(root: directory.appendingPathComponent("thumbnails"))
        pipeline = IngestionPipeline(
            photos: originals, thumbnails: thumbnails, detector: self.engine, index: self.engine, metadata: metadata,
            cropper: cropper, configuration: configuration)
        var gallery = Gallery(
            metadata: metadata, photos: originals, thumbnails: thumbnails, index: self.engine,
            minimumFacesPerPerson: configuration.policy.minimumFacesPerPerson)
        // As at the end of `ingest`: under the library's lock (the gallery holds it around the undo and this), on
        // the vectors other processes have added.
        gallery.regroupAfterUndoneMerge = { [engine = self.engine, pipeline = self.pipeline] faces, merge in
            try await engine.reloadVectors()
            return try await Consolidation(pipeline: pipeline).run(touching: faces, after: merge)
        }
        lock = LibraryLock(directory: self.directory, onWait: onLockWait)
        gallery.storeLock = lock
        self.gallery = gallery
    }

    /// Merge suggestions and explanations, from the engine's vectors.
    public var review: GroupingReview { GroupingReview(pipeline: pipeline, model: LocalFaceEngine.modelDescription) }

    /// The reference of a photo file (its absolute path, symlinks resolved).
    public func reference(forFile file: URL) -> PhotoReference? {
        originals.key(for: file).map { PhotoReference(store: originals.location, key: $0) }
    }

    /// The file a photo reference points at.
    public func file(of reference: PhotoReference) -> URL {
        URL(fileURLWithPath: "/" + reference.key)
    }

    /// Those of `photos` that are done (indexed, or without faces) and whose file is gone: moved or deleted since
    /// they were ingested. A `stat` a photo, on the IO threads.
    public func withFileGone(_ photos: [Photo]) async throws -> Set<PhotoID> {
        try await BlockingWork.io { [self] in
            Set(photos.filter {
                [.indexed, .noFaces].contains($0.status.kind) && $0.reference.store == originals.location
                    && !FileManager.default.fileExists(atPath: file(of: $0.reference).path)
            }.map(\.id))
        }
    }
}
