import FaceClusterLocal
import Foundation

/// The labeled face photos `scripts/fetch-test-data.sh` fetches (one folder per person) and the models it
/// fetches with them. The local-engine tests run when both are there (`scripts/test.sh` fetches them).
enum LabeledSet {
    static var directory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["FACECLUSTER_TESTDATA"], !explicit.isEmpty { return URL(fileURLWithPath: explicit) }
        return FaceModels.cacheDirectory(environment: environment).appendingPathComponent("testdata/labeled")
    }

    static var available: Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("biden/biden.jpg").path)
            && (try? FaceModels().check()) != nil
    }

    /// Every photo with its person (the folder name), sorted by path.
    static func photos() throws -> [(person: String, url: URL)] {
        let people = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try people.flatMap { person in
            try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(person).path)
                .filter { $0.hasSuffix(".jpg") }.sorted()
                .map { (person, directory.appendingPathComponent(person).appendingPathComponent($0)) }
        }
    }
}
