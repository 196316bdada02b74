import CDlibFace
import FaceClusterKit
import Foundation
import Synchronization

/// The models a burst of an ``EnginePool``'s engines is made from, read once (both at once, from their caches
/// when current: ``FaceModels/shapePredictorCacheFile``): the engines
/// share the landmark predictor and the network's weights; every one but the last copies the network (its layers' outputs), which the last takes. Reading them
/// for each engine cost 0.1 s of a core an engine before any photo was analysed.
final class DlibFaceModels: @unchecked Sendable {  // the C side reads, then hands out once (``makeEngines(count:)``)
    private let handle: OpaquePointer

    /// Reads `models`. Throws ``LocalEngineError/modelsMissing`` or ``LocalEngineError/modelUnreadable(detail:)``.
    init(models: FaceModels) throws {
        try models.check()
        dlib_face_set_detector_cache(models.detectorCache.path)
        var error = [CChar](repeating: 0, count: 512)
        guard let handle = dlib_face_models_load(
            models.shapePredictor.path, models.shapePredictorCache.path, models.recognitionModel.path, models.recognitionModelCache.path, &error, error.count) else {
            throw LocalEngineError.modelUnreadable(detail: DlibFaceEngine.message(error))
        }
        self.handle = handle
    }

    deinit { dlib_face_models_destroy(handle) }

    /// `count` engines (each but the last a copy of the network, whose weights all share); the models make no more afterwards.
    func makeEngines(count: Int) throws -> [DlibFaceEngine] {
        var engines = [OpaquePointer?](repeating: nil, count: count)
        var error = [CChar](repeating: 0, count: 512)
        guard dlib_face_engines_create(handle, Int32(count), &engines, &error, error.count) == 0 else {
            throw LocalEngineError.engineFailed(detail: DlibFaceEngine.message(error))
        }
        return engines.map { DlibFaceEngine(handle: $0!) }
    }
}

/// One dlib engine (detector, landmark predictor, recognition network) behind the C API of `CDlibFace`.
/// Not thread-safe: ``EnginePool`` hands each engine to one task at a time.
final class DlibFaceEngine: @unchecked Sendable {
    private let handle: OpaquePointer

    fileprivate init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit { dlib_face_engine_destroy(handle) }

    /// Faces in `image`, largest first, in its pixels, with their HOG scores and 5 landmarks (located in `image`
    /// as given, whatever `upsample`: the landmarks the chips are aligned by).
    func detect(_ image: UprightImage, upsample: Int, capacity: Int = 256) throws -> [dlib_face] {
        try image.pixels.withUnsafeBufferPointer { pixels in
            try Self.faces(capacity: capacity) { faces, error in
                dlib_face_detect(handle, pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(upsample), faces, Int32(capacity), error, 512)
            }
        }
    }

    /// The faces a C detection call wrote (at most `capacity`), or its error: `call` gets room for `capacity`
    /// faces and 512 bytes for a message, and returns how many faces it found or -1.
    static func faces(
        capacity: Int, _ call: (UnsafeMutablePointer<dlib_face>, UnsafeMutablePointer<CChar>) -> Int32
    ) throws -> [dlib_face] {
        var faces = [dlib_face](repeating: dlib_face(), count: capacity)
        var error = [CChar](repeating: 0, count: 512)
        let count = faces.withUnsafeMutableBufferPointer { faces in
            error.withUnsafeMutableBufferPointer { error in call(faces.baseAddress!, error.baseAddress!) }
        }
        guard count >= 0 else { throw LocalEngineError.engineFailed(detail: message(error)) }
        return Array(faces.prefix(min(Int(count), capacity)))
    }

    /// `faces` (boxes that a ``HOGDetector`` found in `image`) with their 5 landmarks.
    func landmarks(_ image: UprightImage, faces: [dlib_face]) throws -> [dlib_face] {
        var located = faces
        var error = [CChar](repeating: 0, count: 512)
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            dlib_face_landmarks(handle, pixels.baseAddress, Int32(image.width), Int32(image.height), &located, Int32(located.count), &error, error.count)
        }
        guard status == 0 else { throw LocalEngineError.engineFailed(detail: Self.message(error)) }
        return located
    }

    /// Bytes of one face's aligned chip: `DLIB_FACE_CHIP_SIDE`² RGB pixels (67,500).
    static let chipBytes = Int(DLIB_FACE_CHIP_SIDE) * Int(DLIB_FACE_CHIP_SIDE) * 3

    /// Each face's aligned chip (``chipBytes`` each), what the recognition network reads: `faces` are boxes
    /// found in `image`.
    func chips(_ image: UprightImage, faces: [dlib_face]) throws -> [[UInt8]] {
        guard !faces.isEmpty else { return [] }
        var chips = [UInt8](repeating: 0, count: faces.count * Self.chipBytes)
        var error = [CChar](repeating: 0, count: 512)
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            dlib_face_chips(handle, pixels.baseAddress, Int32(image.width), Int32(image.height), faces, Int32(faces.count), &chips, &error, error.count)
        }
        guard status == 0 else { throw LocalEngineError.engineFailed(detail: Self.message(error)) }
        return (0..<faces.count).map { Array(chips[$0 * Self.chipBytes..<($0 + 1) * Self.chipBytes]) }
    }

    /// The 128-D embedding of each chip (``chips(_:faces:)``): 10–12 ms of one core a chip (dlib's own network 14–16 ms).
    func embed(chips: [[UInt8]]) throws -> [[Float]] {
        guard !chips.isEmpty else { return [] }
        precondition(chips.allSatisfy { $0.count == Self.chipBytes }, "a chip is \(Self.chipBytes) bytes")
        let joined = chips.flatMap { $0 }
        var vectors = [Float](repeating: 0, count: chips.count * 128)
        var error = [CChar](repeating: 0, count: 512)
        let status = dlib_face_embed_chips(handle, joined, Int32(chips.count), &vectors, &error, error.count)
        guard status == 0 else { throw LocalEngineError.engineFailed(detail: Self.message(error)) }
        return (0..<chips.count).map { Array(vectors[$0 * 128..<($0 + 1) * 128]) }
    }

    static func message(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// dlib's HOG face detector alone: what the tiles of one photo are scanned with, several at once. Not
/// thread-safe: ``HOGDetectors`` lends each to one thread at a time.
final class HOGDetector: @unchecked Sendable {
    private let handle: OpaquePointer

    init() throws {
        var error = [CChar](repeating: 0, count: 512)
        guard let handle = dlib_face_detector_create(&error, error.count) else {
            throw LocalEngineError.engineFailed(detail: DlibFaceEngine.message(error))
        }
        self.handle = handle
    }

    deinit { dlib_face_detector_destroy(handle) }

    /// Face boxes in `image`, largest first, in its pixels, with their HOG scores (no landmarks), from at most
    /// `levels` levels of the detector's pyramid (level n finds faces of 80 × 1.2ⁿ pixels after upsampling; 0:
    /// every level).
    func detect(_ image: UprightImage, upsample: Int, levels: Int = 0, capacity: Int = 256) throws -> [dlib_face] {
        try detect(in: image, tile: (0, 0, image.width, image.height), upsample: upsample, levels: levels, capacity: capacity)
    }

    /// The same for the `tile` of `image` (its pixels), read where it lies: no copy of the tile is made.
    func detect(
        in image: UprightImage, tile: (x: Int, y: Int, width: Int, height: Int), upsample: Int, levels: Int = 0, capacity: Int = 256
    ) throws -> [dlib_face] {
        precondition(tile.x >= 0 && tile.y >= 0 && tile.x + tile.width <= image.width && tile.y + tile.height <= image.height)
        return try image.pixels.withUnsafeBufferPointer { pixels in
            try detect(pixels: pixels.baseAddress!, width: image.width, tile: tile, upsample: upsample, levels: levels, capacity: capacity)
        }
    }

    /// The same for a `tile` of RGB `pixels` in rows of `width` (an image still being decoded: ``EarlyTileScan``).
    func detect(
        pixels: UnsafePointer<UInt8>, width: Int, tile: (x: Int, y: Int, width: Int, height: Int), upsample: Int, levels: Int = 0, capacity: Int = 256
    ) throws -> [dlib_face] {
        precondition(tile.x >= 0 && tile.y >= 0 && tile.x + tile.width <= width)
        return try DlibFaceEngine.faces(capacity: capacity) { faces, error in
            dlib_face_detector_detect(
                handle, pixels + (tile.y * width + tile.x) * 3, Int32(tile.width), Int32(tile.height), width * 3,
                Int32(upsample), Int32(levels), faces, Int32(capacity), error, 512)
        }
    }
}

/// Idle ``HOGDetector``s, created on first use (dlib carries the detector's weights: no file is read) and
/// kept: at most one per thread that scans at once, a few hundred kB each.
final class HOGDetectors: Sendable {
    static let shared = HOGDetectors()
    private let idle = Mutex<[HOGDetector]>([])

    /// Runs `body` with a detector no other thread uses meanwhile (call it on ``BlockingWork``'s threads).
    func withDetector<T>(_ body: (HOGDetector) throws -> T) throws -> T {
        let detector = try idle.withLock { $0.popLast() } ?? HOGDetector()
        defer { idle.withLock { $0.append(detector) } }
        return try body(detector)
    }
}

/// At most `limit` engines (each ~100 MB with its models), created on first use and lent to one task at a time.
/// The model files are read once for each burst of creations: every caller that needs a new engine while they are
/// read gets one from that read, and the read is then let go, so an idle pool holds only its engines.
actor EnginePool {
    private let models: FaceModels
    private let limit: Int
    private var idle: [DlibFaceEngine] = []
    private var created = 0  // made or being made
    /// Callers waiting for an engine to be released, all `limit` being made; `nil` when a creation failed, which
    /// leaves room to make one.
    private var waiting: [CheckedContinuation<DlibFaceEngine?, Never>] = []
    /// Callers waiting for the models being read, beside the one reading them.
    private var joined: [CheckedContinuation<DlibFaceEngine, any Error>]?

    init(models: FaceModels, limit: Int) {
        self.models = models
        self.limit = max(1, limit)
    }

    /// Runs `work` with an engine of its own.
    nonisolated func withEngine<T: Sendable>(_ work: @Sendable (DlibFaceEngine) async throws -> T) async throws -> T {
        let engine = try await acquire()
        defer { Task { await self.release(engine) } }
        return try await work(engine)
    }

    private func acquire() async throws -> DlibFaceEngine {
        while true {
            if let engine = idle.popLast() { return engine }
            if created < limit {
                created += 1
                return try await create()
            }
            if let engine = await withCheckedContinuation({ waiting.append($0) }) { return engine }
        }
    }

    /// A new engine: from the read under way, or from a read this call starts (on ``BlockingWork``'s threads), which
    /// then makes one engine for it and one for each caller that joined meanwhile. On failure every one of them
    /// gets the error, and callers waiting for a release are woken to try again.
    private func create() async throws -> DlibFaceEngine {
        if joined != nil {
            return try await withCheckedThrowingContinuation { joined?.append($0) }
        }
        joined = []
        let models = self.models
        var others: [CheckedContinuation<DlibFaceEngine, any Error>]? = nil  // set once the read is done
        do {
            let read = try await BlockingWork.run { try DlibFaceModels(models: models) }
            let callers = joined.take() ?? []  // later callers start a read of their own
            others = callers
            let engines = try await BlockingWork.run { try read.makeEngines(count: callers.count + 1) }
            for (caller, engine) in zip(callers, engines.dropFirst()) { caller.resume(returning: engine) }
            return engines[0]
        } catch {
            let others = others ?? joined.take() ?? []
            for caller in others { caller.resume(throwing: error) }
            created -= others.count + 1
            for _ in 0..<min(others.count + 1, waiting.count) { waiting.removeFirst().resume(returning: nil) }
            throw error
        }
    }

    private func release(_ engine: DlibFaceEngine) {
        if waiting.isEmpty { idle.append(engine) } else { waiting.removeFirst().resume(returning: engine) }
    }
}
