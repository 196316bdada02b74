@testable import FaceClusterKit
import FaceClusterLocal
import Foundation
import Testing

@Suite("Local face engine on real photos", .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"))
struct LocalFaceEngineTests {
    @Test("finds the face in every labeled photo, and distances separate people at dlib's 0.6")
    func labeledSet() async throws {
        let engine = try LocalFaceEngine(database: try LocalDatabase.inMemory())
        var embeddings: [(person: String, name: String, vector: [Float])] = []
        for (person, url) in try LabeledSet.photos() {
            let data = try Data(contentsOf: url)
            let result = try await engine.indexFaces(in: ImageInput(data: data), externalImageID: url.lastPathComponent, options: IndexOptions())
            #expect(!result.indexed.isEmpty, "no face found in \(person)/\(url.lastPathComponent)")
            guard let largest = result.indexed.first, let vector = largest.face.embedding else { continue }
            embeddings.append((person, url.lastPathComponent, vector))
        }
        var same: [Double] = [], different: [Double] = []
        for i in embeddings.indices {
            for j in embeddings.indices where j > i {
                let distance = LocalFaceEngine.distance(embeddings[i].vector, embeddings[j].vector)
                if embeddings[i].person == embeddings[j].person { same.append(distance) } else { different.append(distance) }
            }
        }
        print("same person: \(same.count) pairs, max \(same.max() ?? 0); different: \(different.count) pairs, min \(different.min() ?? 0)")
        // dlib's own threshold for one pair separates this easy set; grouping uses average linkage at 0.55.
        #expect((same.max() ?? 1) < LocalFaceEngine.dlibDistance)
        #expect((different.min() ?? 0) > LocalFaceEngine.dlibDistance)
    }
}

/// The FaceIndex contract on real faces: labeled photos, alone or pasted side by side into one photo.
@Suite("Local face engine: the FaceIndex contract on real photos", .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"))
struct LocalFaceIndexTests {
    static func photo(_ person: String, _ number: Int) throws -> Data {
        let photos = try LabeledSet.photos().filter { $0.person == person }
        return try Data(contentsOf: photos[number % photos.count].url)
    }

    /// Labeled photos of `people` side by side, each scaled to `side` px (a gray canvas between them).
    static func group(_ people: [(String, Int)], sides: [Int]? = nil) throws -> Data {
        let sides = sides ?? Array(repeating: 300, count: people.count)
        let width = sides.reduce(0, +) + 40 * (people.count + 1), height = (sides.max() ?? 0) + 80
        var canvas = PixelBuffer(width: width, height: height, pixels: [UInt8](repeating: 110, count: width * height * 3))
        var x = 40
        for ((person, number), side) in zip(people, sides) {
            let face = try UprightImage(decoding: try photo(person, number))
            let pasted = PixelBuffer(width: face.width, height: face.height, pixels: face.pixels)
                .resampled(region: (0, 0, Double(face.width), Double(face.height)), toWidth: side, height: side)
            for row in 0..<side {
                let from = row * side * 3, to = ((40 + row) * width + x) * 3
                canvas.pixels.replaceSubrange(to..<to + side * 3, with: pasted.pixels[from..<from + side * 3])
            }
            x += side + 40
        }
        return JPEGFactory.jpeg(canvas, quality: 92)
    }

    static func engine() throws -> LocalFaceEngine { try LocalFaceEngine(database: try LocalDatabase.inMemory()) }

    @Test("one id per face; indexing the same photo again returns the same ids and stores nothing twice")
    func idempotent() async throws {
        let engine = try Self.engine()
        let photo = try Self.group([("John_Salley", 0), ("John_Simm", 0)])
        let first = try await engine.indexFaces(in: ImageInput(data: photo), externalImageID: "ph_1", options: IndexOptions())
        #expect(first.indexed.count == 2 && Set(first.indexed.map(\.faceID)).count == 2)
        let second = try await engine.indexFaces(in: ImageInput(data: photo), externalImageID: "ph_1", options: IndexOptions())
        #expect(second.indexed.map(\.faceID) == first.indexed.map(\.faceID))
        #expect(engine.faceCount == 2)
    }

    @Test("search by face id finds the same person in other photos, never itself nor others; deleted faces are gone")
    func searchByFace() async throws {
        let engine = try Self.engine()
        let one = try await engine.indexFaces(in: ImageInput(data: try Self.group([("John_Salley", 0), ("John_Simm", 0)])), externalImageID: "ph_1", options: IndexOptions())
        let two = try await engine.indexFaces(in: ImageInput(data: try Self.photo("John_Salley", 5)), externalImageID: "ph_2", options: IndexOptions())
        let salley = try #require(one.indexed.first { $0.face.boundingBox.left < 0.4 })
        let matches = try await engine.searchFaces(matching: try #require(two.indexed.first).faceID, options: SearchOptions(threshold: 90))
        #expect(matches.map(\.faceID) == [salley.faceID])
        #expect(matches.first?.externalImageID == "ph_1")
        try await engine.deleteFaces([salley.faceID, FaceID(rawValue: "f_unknown")])
        #expect(try await engine.searchFaces(matching: try #require(two.indexed.first).faceID, options: SearchOptions(threshold: 90)).isEmpty)
    }

    @Test("search by image uses the largest face; an image without a face finds nothing")
    func searchByImage() async throws {
        let engine = try Self.engine()
        let stored = try await engine.indexFaces(in: ImageInput(data: try Self.photo("John_Savage", 1)), externalImageID: "ph_1", options: IndexOptions())
        let probe = try Self.group([("John_Schneider", 0), ("John_Savage", 2)], sides: [160, 360])
        let result = try await engine.searchFaces(byImage: ImageInput(data: probe), options: SearchOptions(threshold: 90))
        #expect(result.matches.map(\.faceID) == stored.indexed.map(\.faceID))
        #expect((result.searchedFace?.left ?? 0) > 0.3)
        let blank = JPEGFactory.jpeg(PixelBuffer(width: 400, height: 300, pixels: [UInt8](repeating: 128, count: 400 * 300 * 3)))
        let empty = try await engine.searchFaces(byImage: ImageInput(data: blank), options: SearchOptions(threshold: 90))
        #expect(empty.searchedFace == nil && empty.matches.isEmpty)
    }

    @Test("at most maxFaces faces are indexed, largest first; the rest are reported")
    func maxFaces() async throws {
        let photo = try Self.group([("John_Salley", 1), ("John_Simm", 1), ("John_Shimkus", 1)], sides: [180, 360, 260])
        let result = try await Self.engine().indexFaces(in: ImageInput(data: photo), externalImageID: "crowd", options: IndexOptions(maxFaces: 2))
        try #require(result.indexed.count == 2)
        #expect(result.indexed[0].face.boundingBox.width > result.indexed[1].face.boundingBox.width)
        #expect(result.unindexed.map(\.reasons) == [["EXCEEDS_MAX_FACES"]])
    }

    @Test("bytes that are not an image, or only a PNG signature, are refused with a typed error", arguments: [Data("hello".utf8), Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])])
    func notAnImage(data: Data) async throws {
        let engine = try Self.engine()
        let error = await #expect(throws: ImageError.self) {
            try await engine.indexFaces(in: ImageInput(data: data), externalImageID: "x", options: IndexOptions())
        }
        #expect([FailureCode.notAnImage, .corruptImage].contains(try PhotoFailure(#require(error)).code), "\(String(describing: error))")
    }

    @Test("vectors persist in the database: a new engine on the same file finds the faces indexed before")
    func persists() async throws {
        let path = Scratch.url("fck-engine-\(UUID().uuidString).sqlite").path
        let stored = try await LocalFaceEngine(database: try LocalDatabase(path: path))
            .indexFaces(in: ImageInput(data: try Self.photo("John_Simm", 2)), externalImageID: "ph_1", options: IndexOptions())
        let reopened = try LocalFaceEngine(database: try LocalDatabase(path: path))
        #expect(reopened.faceCount == 1)
        let probe = try await reopened.searchFaces(byImage: ImageInput(data: try Self.photo("John_Simm", 3)), options: SearchOptions(threshold: 90))
        #expect(probe.matches.map(\.faceID) == stored.indexed.map(\.faceID))
    }
}

/// The engine pool when a model file is damaged: every analysis fails with the model's error, including those that
/// joined the first one's read of the files and those that waited for an engine to be released (each then tries a
/// read of its own).
@Suite("Local face engine: damaged models", .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"))
struct DamagedModelTests {
    @Test(
        "a truncated landmark model fails each of 5 concurrent analyses, on a pool of 1 engine or 2; none waits forever",
        .timeLimit(.minutes(5)), arguments: [1, 2])
    func truncatedModel(engines: Int) async throws {
        let directory = Scratch.url("damaged-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let real = FaceModels()
        let predictor = try Data(contentsOf: real.directory.appendingPathComponent(FaceModels.shapePredictorFile))
        try predictor.prefix(4096).write(to: directory.appendingPathComponent(FaceModels.shapePredictorFile))
        try FileManager.default.createSymbolicLink(
            at: directory.appendingPathComponent(FaceModels.recognitionModelFile),
            withDestinationURL: real.directory.appendingPathComponent(FaceModels.recognitionModelFile))
        let engine = try LocalFaceEngine(
            models: FaceModels(directory: directory), database: try LocalDatabase.inMemory(), configuration: .init(engines: engines))
        let photo = try LocalFaceIndexTests.photo("obama", 0)
        let failures = await withTaskGroup(of: String.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    do {
                        _ = try await engine.detectFaces(in: ImageInput(data: photo))
                        return "no error"
                    } catch let error as LocalEngineError {
                        if case .modelUnreadable = error { return "modelUnreadable" }
                        return "\(error)"
                    } catch {
                        return "\(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(failures == Array(repeating: "modelUnreadable", count: 5))
    }
}
