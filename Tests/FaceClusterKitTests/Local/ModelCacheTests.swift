import CDlibFace
@testable import FaceClusterKit
import FaceClusterLocal
import Foundation
import Testing

/// The models' caches (model_cache.h): the landmark model and the network as this machine holds them, written
/// beside the models by the first process and read by the next in milliseconds. A cache must give exactly what the
/// model file gives, and one that no longer matches its model, or is damaged, must never be used.
@Suite("The face models' caches", .enabled(if: (try? FaceModels().check()) != nil, "needs the models (facecluster setup)"))
struct ModelCacheTests {
    static let photos = ["Tony_Blair/Tony_Blair_0001.jpg", "Arnold_Schwarzenegger/Arnold_Schwarzenegger_0005.jpg", "Hugo_Chavez/Hugo_Chavez_0003.jpg"]

    /// A models folder of its own, no cache yet: links to the installed models, or copies of them.
    static func models(copied: Bool = false) throws -> URL {
        let folder = Scratch.url("model-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in [FaceModels.shapePredictorFile, FaceModels.recognitionModelFile] {
            let installed = FaceModels().directory.appendingPathComponent(file)
            if copied {
                try FileManager.default.copyItem(at: installed, to: folder.appendingPathComponent(file))
            } else {
                try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(file), withDestinationURL: installed)
            }
        }
        return folder
    }

    /// What an engine made from the models in `folder` (read through their caches there when `cached`) finds in
    /// the photos: each face's landmarks and embedding, as numbers to compare bit for bit.
    static func analyse(_ folder: URL, cached: Bool = true) throws -> [Float] {
        let path = { (file: String) in folder.appendingPathComponent(file).path }
        var error = [CChar](repeating: 0, count: 512)
        let loaded = try #require(
            dlib_face_models_load(
                path(FaceModels.shapePredictorFile), cached ? path(FaceModels.shapePredictorCacheFile) : nil,
                path(FaceModels.recognitionModelFile), cached ? path(FaceModels.recognitionModelCacheFile) : nil, &error, error.count),
            "the models could not be read: \(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        defer { dlib_face_models_destroy(loaded) }
        var engines: [OpaquePointer?] = [nil]
        try #require(dlib_face_engines_create(loaded, 1, &engines, &error, error.count) == 0)
        let engine = try #require(engines[0])
        defer { dlib_face_engine_destroy(engine) }

        var numbers: [Float] = []
        for photo in photos {
            let image = try UprightImage(decoding: Data(contentsOf: GroupingQualityTests.lfw10.appendingPathComponent(photo)))
            var faces = [dlib_face](repeating: dlib_face(), count: 4)
            let found = image.pixels.withUnsafeBufferPointer {
                dlib_face_detect(engine, $0.baseAddress, Int32(image.width), Int32(image.height), 1, &faces, 4, &error, error.count)
            }
            try #require(found >= 1, "no face in \(photo)")
            let count = Int(min(found, 4))
            var chips = [UInt8](repeating: 0, count: count * Int(DLIB_FACE_CHIP_SIDE) * Int(DLIB_FACE_CHIP_SIDE) * 3)
            let cut = image.pixels.withUnsafeBufferPointer {
                dlib_face_chips(engine, $0.baseAddress, Int32(image.width), Int32(image.height), faces, Int32(count), &chips, &error, error.count)
            }
            try #require(cut == 0)
            var embeddings = [Float](repeating: .nan, count: count * 128)
            try #require(dlib_face_embed_chips(engine, chips, Int32(count), &embeddings, &error, error.count) == 0)
            for face in faces.prefix(count) {
                numbers += withUnsafeBytes(of: face.landmarks) { Array($0.bindMemory(to: Double.self)) }.map { Float($0) }
            }
            numbers += embeddings
        }
        return numbers
    }

    static func identity(_ file: URL) throws -> String {
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        return "\(attributes[.systemFileNumber] ?? "") \(attributes[.size] ?? "") \(attributes[.modificationDate] ?? "")"
    }

    @Test("the engines' landmark model locates dlib's shape_predictor's landmarks, pixel for pixel, read from the file or its cache")
    func landmarksAreDlibs() throws {
        let folder = try Self.models()
        defer { try? FileManager.default.removeItem(at: folder) }
        let shapePredictor = folder.appendingPathComponent(FaceModels.shapePredictorFile).path
        let cache = folder.appendingPathComponent(FaceModels.shapePredictorCacheFile)
        var written = ""
        for round in ["from the model file", "from the cache"] {
            if round == "from the cache" { written = try Self.identity(cache) }
            var error = [CChar](repeating: 0, count: 512)
            let loaded = try #require(
                dlib_face_models_load(
                    shapePredictor, folder.appendingPathComponent(FaceModels.shapePredictorCacheFile).path,
                    folder.appendingPathComponent(FaceModels.recognitionModelFile).path, nil, &error, error.count))
            defer { dlib_face_models_destroy(loaded) }
            var engines: [OpaquePointer?] = [nil]
            try #require(dlib_face_engines_create(loaded, 1, &engines, &error, error.count) == 0)
            let engine = try #require(engines[0])
            defer { dlib_face_engine_destroy(engine) }
            for photo in Self.photos {
                let image = try UprightImage(decoding: Data(contentsOf: GroupingQualityTests.lfw10.appendingPathComponent(photo)))
                var faces = [dlib_face](repeating: dlib_face(), count: 4)
                let found = image.pixels.withUnsafeBufferPointer {
                    dlib_face_detect(engine, $0.baseAddress, Int32(image.width), Int32(image.height), 1, &faces, 4, &error, error.count)
                }
                try #require(found >= 1, "no face in \(photo)")
                let same = image.pixels.withUnsafeBufferPointer {
                    dlib_face_landmarks_check(engine, shapePredictor, $0.baseAddress, Int32(image.width), Int32(image.height), faces, min(found, 4))
                }
                #expect(same == 1, "\(photo), \(round): 1 the same, -1 a part differs, -3 failed")
            }
        }
        #expect(try Self.identity(cache) == written, "the second round read the cache the first wrote")
    }

    @Test("the first engines write both caches; the next read them and find the same landmarks and embeddings, bit for bit")
    func cacheGivesTheModels() throws {
        let folder = try Self.models()
        defer { try? FileManager.default.removeItem(at: folder) }
        let caches = [FaceModels.shapePredictorCacheFile, FaceModels.recognitionModelCacheFile].map { folder.appendingPathComponent($0) }
        let uncached = try Self.analyse(folder, cached: false)
        #expect(caches.allSatisfy { !FileManager.default.fileExists(atPath: $0.path) }, "no cache without a cache path")

        let first = try Self.analyse(folder)
        #expect(caches.allSatisfy { FileManager.default.fileExists(atPath: $0.path) }, "the first read writes the caches")
        let written = try caches.map(Self.identity)
        let second = try Self.analyse(folder)
        #expect(try caches.map(Self.identity) == written, "the second read uses the caches as they are")
        #expect(uncached.count >= 3 * (10 + 128))
        #expect(first == uncached && second == uncached)
    }

    @Test("a damaged cache, or one made from another model file, is passed by and made again; the results stay the model's")
    func staleOrDamagedCache() throws {
        let folder = try Self.models(copied: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let expected = try Self.analyse(folder)
        let network = folder.appendingPathComponent(FaceModels.recognitionModelCacheFile)
        let landmarks = folder.appendingPathComponent(FaceModels.shapePredictorCacheFile)
        let fullSize = try #require(try FileManager.default.attributesOfItem(atPath: landmarks.path)[.size] as? Int)

        // One bit changed amid the network's weights (a disk's error): the cache still parses, only its checksum
        // tells. And the landmark model's cache cut off halfway (a full disk).
        var damaged = try Data(contentsOf: network)
        damaged[damaged.count / 2] ^= 0x10
        try damaged.write(to: network)
        let handle = try FileHandle(forWritingTo: landmarks)
        try handle.truncate(atOffset: UInt64(fullSize / 2))
        try handle.close()
        #expect(try Self.analyse(folder) == expected)
        #expect(try Data(contentsOf: network) != damaged, "made again")
        #expect(try FileManager.default.attributesOfItem(atPath: landmarks.path)[.size] as? Int == fullSize, "made again")

        // A model file rewritten in place (here: only its modification time changed) makes its cache stale.
        let before = try Self.identity(landmarks)
        let model = folder.appendingPathComponent(FaceModels.shapePredictorFile)
        let inode = try FileManager.default.attributesOfItem(atPath: model.path)[.systemFileNumber] as? Int
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: model.path)
        #expect(try FileManager.default.attributesOfItem(atPath: model.path)[.systemFileNumber] as? Int == inode)
        #expect(try Self.analyse(folder) == expected)
        #expect(try Self.identity(landmarks) != before, "the stale cache was made again")
    }
}
