import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster evaluate LABELED_DIR`: how well the people found match the truth.
struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure grouping quality on a labeled set (one folder per person).",
        discussion: """
            Ingests every photo of LABELED_DIR into a fresh, temporary library and compares the people found \
            with the folders: pairwise precision, recall and F1 over pairs of faces, and BCubed F1. Every face \
            found counts as an item labeled with its folder; a photo where no face was found counts as a face \
            left alone. Also prints the ingestion rate and the process's peak memory.
            """)

    @Argument(help: "A folder with one sub-folder of photos per person.")
    var labeled: String

    @Option(help: "Photos processed at once (default: the number of cores).")
    var jobs = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print JSON.")
    var json = false

    struct Output: Encodable {
        struct Identity: Encodable {
            var name: String
            var photos: Int
            var faces: Int
            /// How many of its faces went to each person found, largest first.
            var people: [Int]
        }

        var photos: Int
        var faces: Int
        var photosWithoutFace: Int
        var failed: Int
        var peopleFound: Int
        var identities: [Identity]
        var score: ClusteringScore
        var seconds: Double
        var photosPerSecond: Double
        var peakResidentMegabytes: Double
    }

    func run() async throws {
        let root = URL(fileURLWithPath: labeled).standardizedFileURL
        guard let folders = try? FileManager.default.contentsOfDirectory(atPath: root.path).filter({ !$0.hasPrefix(".") }).sorted() else {
            throw CLIFailure(message: "error: cannot read \(labeled)")
        }
        var labeledFiles: [(label: String, file: URL)] = []
        for folder in folders {
            let url = root.appendingPathComponent(folder)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue else { continue }
            labeledFiles += try Ingest.collect([url.path]).map { (folder, $0) }
        }
        guard !labeledFiles.isEmpty else { throw CLIFailure(message: "error: no photos in sub-folders of \(labeled)") }

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("facecluster-evaluate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let library: LocalLibrary
        do {
            library = try LocalLibrary(directory: scratch, inMemoryDatabase: true)
        } catch let error as LocalEngineError {
            throw CLIFailure(message: "error: \(error.description)")
        }
        let references = labeledFiles.map { library.reference(forFile: $0.file)! }
        let started = ContinuousClock.now
        let reports = try await concurrentMap(references, limit: jobs) { await library.pipeline.ingest($0) }
        let elapsed = (ContinuousClock.now - started).seconds

        var assignments: [(label: String, cluster: String)] = []
        var identities: [String: (photos: Int, faces: [String])] = [:]
        var withoutFace = 0
        for (item, report) in zip(labeledFiles, reports) {
            identities[item.label, default: (0, [])].photos += 1
            let appearances = try await library.metadata.appearances(inPhoto: report.photoID)
            if appearances.isEmpty {
                withoutFace += 1
                assignments.append((item.label, "unassigned:\(report.photoID.rawValue)"))
            }
            for appearance in appearances {
                let person = try await library.metadata.person(appearance.personID)?.id ?? appearance.personID
                assignments.append((item.label, person.rawValue))
                identities[item.label]?.faces.append(person.rawValue)
            }
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let output = Output(
            photos: reports.count, faces: reports.map(\.faceCount).reduce(0, +), photosWithoutFace: withoutFace,
            failed: reports.filter { if case .failed = $0.outcome { true } else { false } }.count,
            peopleFound: try await Page.all(pageSize: 1000) { try await library.metadata.people(page: $0) }.count,
            identities: identities.keys.sorted().map { name in
                let faces = identities[name]!.faces
                let counts = Dictionary(faces.map { ($0, 1) }, uniquingKeysWith: +).values.sorted(by: >)
                return Output.Identity(name: name, photos: identities[name]!.photos, faces: faces.count, people: counts)
            },
            score: ClusteringScore(assignments), seconds: elapsed, photosPerSecond: Double(reports.count) / max(elapsed, 0.001),
            peakResidentMegabytes: Double(usage.ru_maxrss) / 1024)
        if json { return try printJSON(output) }
        print("\(output.photos) photos of \(output.identities.count) people: \(output.faces) faces found, \(output.photosWithoutFace) photos without one, \(output.failed) failed")
        print("People found: \(output.peopleFound)")
        for identity in output.identities {
            let split = identity.people.count == 1 ? "one person" : "split over \(identity.people.count) people \(identity.people)"
            print("  \(identity.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(identity.photos) photos, \(identity.faces) faces → \(split)")
        }
        let score = output.score
        print(String(format: "Pairwise  precision %.4f  recall %.4f  F1 %.4f", score.pairwisePrecision, score.pairwiseRecall, score.pairwiseF1))
        print(String(format: "BCubed    precision %.4f  recall %.4f  F1 %.4f", score.bcubedPrecision, score.bcubedRecall, score.bcubedF1))
        print(String(format: "Ingestion: %.2f s, %.1f photos/s (%d at once); peak resident memory %.0f MB", output.seconds, output.photosPerSecond, jobs, output.peakResidentMegabytes))
    }
}
