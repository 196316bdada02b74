import FaceClusterKit
import FaceClusterLocal
import Foundation
import Testing

/// `facecluster ingest` stopped by Ctrl-C, SIGTERM or `kill -9` at several points — between photos and in the
/// middle of one — then run again: every photo ends terminal, the people are those of a run that was never
/// interrupted, and `repair --dry-run` finds nothing (no stray face, thumbnail, person or count).
@Suite("facecluster: interrupted runs lose nothing", .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"), .serialized)
struct InterruptionTests {
    /// A `facecluster` process whose standard error is read as it is written.
    final class LiveProcess: Sendable {
        let process: Process
        private let errors = Locked("")
        private let output = Locked("")

        init(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws {
            process = Process()
            process.executableURL = CommandLineTests.binary
            process.arguments = arguments
            process.currentDirectoryURL = folder
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let errorPipe = Pipe(), outputPipe = Pipe()
            process.standardError = errorPipe
            process.standardOutput = outputPipe
            errorPipe.fileHandleForReading.readabilityHandler = { [errors] handle in
                let data = handle.availableData
                errors.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
            outputPipe.fileHandleForReading.readabilityHandler = { [output] handle in
                let data = handle.availableData
                output.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
            try process.run()
        }

        var errorText: String { errors.value }
        var outputText: String { output.value }

        /// Lines of per-photo progress printed so far.
        var photosReported: Int { errorText.split(separator: "\n").filter { $0.contains("  /") }.count }

        /// Waits until `count` photos were reported (or the process ended); `false` after a minute.
        func waitForPhotos(_ count: Int) async throws -> Bool {
            for _ in 0..<6000 {
                if photosReported >= count { return true }
                if !process.isRunning { return false }
                try await Task.sleep(for: .milliseconds(10))
            }
            return false
        }

        func signal(_ number: Int32) { kill(process.processIdentifier, number) }

        func exitStatus() async throws -> Int32 {
            for _ in 0..<6000 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
            process.waitUntilExit()
            // A process killed by a signal reports the signal; the shell would show 128 + it.
            return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        }
    }

    /// 12 photos, 3 each of 4 people, in a fresh folder.
    static func folder() throws -> URL {
        let folder = Scratch.url("fck-stop-\(UUID().uuidString)")
        let photos = folder.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        let labeled = try LabeledSet.photos()
        for person in ["John_Salley", "John_Savage", "John_Schneider", "John_Simm"] {
            for (number, item) in labeled.filter({ $0.person == person }).prefix(3).enumerated() {
                try FileManager.default.copyItem(at: item.url, to: photos.appendingPathComponent("\(person)-\(number).jpg"))
            }
        }
        return folder
    }

    /// The people as sets of photo file names, which do not depend on ids.
    static func partition(_ folder: URL) async throws -> Set<Set<String>> {
        let listed = try await CommandLineTests.run(["people", "--photos", "--json"], in: folder)
        #expect(listed.status == 0, "\(listed.errors)")
        let people = try #require(try listed.json() as? [[String: Any]])
        return Set(people.map { entry in Set((entry["photos"] as? [String] ?? []).map { URL(fileURLWithPath: $0).lastPathComponent }) })
    }

    /// The people of an uninterrupted run, computed once.
    static let reference = Task<Set<Set<String>>, any Error> {
        let folder = try InterruptionTests.folder()
        let run = try await CommandLineTests.run(["ingest", "photos"], in: folder)
        guard run.status == 0 else { throw CLIError(message: run.errors) }
        return try await partition(folder)
    }

    struct CLIError: Error { var message: String }

    struct Stop: Sendable, CustomTestStringConvertible {
        var signals: [Int32]
        /// Photos reported before the signal.
        var after: Int
        /// Signal right after a photo is reported (between photos), or a few steps into the next ones.
        var midPhoto: Bool
        var expectedStatus: Int32
        var testDescription: String {
            let names = signals.map { $0 == SIGKILL ? "SIGKILL" : $0 == SIGINT ? "SIGINT" : "SIGTERM" }.joined(separator: "+")
            return "\(names) after \(after) photos\(midPhoto ? ", mid-photo" : "")"
        }
    }

    /// Every metadata call of the run under test waits this long, so that a signal lands where it is meant to
    /// (and before the run is over) even on a busy machine.
    static let stepDelayMilliseconds = 30

    static let stops: [Stop] = [
        Stop(signals: [SIGKILL], after: 1, midPhoto: false, expectedStatus: 128 + SIGKILL),
        Stop(signals: [SIGKILL], after: 4, midPhoto: true, expectedStatus: 128 + SIGKILL),
        Stop(signals: [SIGKILL], after: 9, midPhoto: true, expectedStatus: 128 + SIGKILL),
        Stop(signals: [SIGINT], after: 2, midPhoto: false, expectedStatus: 130),
        Stop(signals: [SIGINT], after: 5, midPhoto: true, expectedStatus: 130),
        Stop(signals: [SIGTERM], after: 7, midPhoto: true, expectedStatus: 143),
        Stop(signals: [SIGINT, SIGINT], after: 3, midPhoto: true, expectedStatus: 130),
    ]

    @Test("stopped or killed, then run again: the same people, every photo done, nothing to repair", arguments: stops)
    func stopAndResume(_ stop: Stop) async throws {
        let expected = try await Self.reference.value
        let folder = try Self.folder()
        let environment = ["FACECLUSTER_TEST_STEP_DELAY_MS": "\(Self.stepDelayMilliseconds)"]
        let run = try LiveProcess(["ingest", "photos", "--jobs", "2"], in: folder, environment: environment)
        #expect(try await run.waitForPhotos(stop.after), "the run reported \(run.photosReported) photos: \(run.errorText)")
        if stop.midPhoto { try await Task.sleep(for: .milliseconds(Self.stepDelayMilliseconds * 3)) }
        for signal in stop.signals {
            run.signal(signal)
            try await Task.sleep(for: .milliseconds(30))
        }
        let status = try await run.exitStatus()
        #expect(status == stop.expectedStatus, "\(run.errorText)\n\(run.outputText)")
        if stop.signals == [SIGINT] || stop.signals == [SIGTERM] {
            // A clean stop says what it did and how to finish.
            #expect(run.outputText.contains("Stopped (") && run.outputText.contains("Run the same command again"), "\(run.outputText)")
            #expect(run.errorText.contains("Stopping: finishing the photos in progress"))
        }

        let again = try await CommandLineTests.run(["ingest", "photos"], in: folder)
        #expect(again.status == 0, "\(again.output)\n\(again.errors)")
        let statuses = try #require(try await CommandLineTests.run(["status", "--json"], in: folder).json() as? [[String: Any]])
        #expect(statuses.count == 12)
        #expect(statuses.allSatisfy { $0["status"] as? String == "indexed" }, "\(statuses.map { $0["status"] ?? "?" })")
        let partition = try await Self.partition(folder)
        #expect(partition == expected, "first run:\n\(run.errorText)\nagain:\n\(again.output)")
        let check = try await CommandLineTests.run(["repair", "--dry-run"], in: folder)
        #expect(check.status == 0 && check.output.contains("nothing to repair"), "\(check.output)")
    }

    @Test("a killed run's faces wait on disk: repair names them, and the next ingest regroups them and clears them")
    func unconsolidatedAfterKill() async throws {
        let folder = try Self.folder()
        let environment = ["FACECLUSTER_TEST_STEP_DELAY_MS": "\(Self.stepDelayMilliseconds)"]
        let run = try LiveProcess(["ingest", "photos", "--jobs", "1"], in: folder, environment: environment)
        #expect(try await run.waitForPhotos(3), "the run reported \(run.photosReported) photos: \(run.errorText)")
        run.signal(SIGKILL)
        #expect(try await run.exitStatus() == 128 + SIGKILL)
        let waiting = folder.appendingPathComponent(".facecluster/unconsolidated")
        let files = try FileManager.default.contentsOfDirectory(atPath: waiting.path)
        try #require(files.count == 1)
        // A line per photo reported (each has one face), written before the photo is reported.
        let lines = try String(contentsOf: waiting.appendingPathComponent(files[0]), encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 3, "\(lines)")

        // A dry run names the file and the faces it holds, and writes nothing.
        let check = try await CommandLineTests.run(["repair", "--dry-run"], in: folder)
        #expect(check.status == 1 && check.output.contains("unconsolidated_faces unconsolidated/\(files[0]): \(lines.count) faces"), "\(check.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: waiting.path) == files)
        let again = try await CommandLineTests.run(["ingest", "photos"], in: folder)
        #expect(again.status == 0, "\(again.output)\n\(again.errors)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: waiting.path).isEmpty)
        #expect(try await Self.partition(folder) == (try await Self.reference.value))
        let clean = try await CommandLineTests.run(["repair", "--dry-run"], in: folder)
        #expect(clean.status == 0 && clean.output.contains("nothing to repair"), "\(clean.output)")
    }

    @Test("two ingests of one new library at once: every photo done, one person per person", arguments: 0..<3)
    func concurrentRuns(round: Int) async throws {
        let expected = try await Self.reference.value
        let folder = try Self.folder()
        // Each run gets half of every person's photos, so both found the same people at the same time.
        let photos = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("photos").path).sorted()
        let halves = [photos.enumerated().filter { $0.offset % 2 == 0 }.map { "photos/" + $0.element },
                      photos.enumerated().filter { $0.offset % 2 == 1 }.map { "photos/" + $0.element }]
        async let first = CommandLineTests.run(["ingest"] + halves[0], in: folder)
        async let second = CommandLineTests.run(["ingest"] + halves[1], in: folder)
        let (a, b) = try await (first, second)
        #expect(a.status == 0 && b.status == 0, "\(a.errors)\n\(b.errors)")
        #expect(try await Self.partition(folder) == expected)
        let check = try await CommandLineTests.run(["repair", "--dry-run"], in: folder)
        #expect(check.status == 0, "\(check.output)")
    }

    @Test("a photo another live process holds is reported on its own line with its holder and expiry, and exit 1")
    func heldElsewhere() async throws {
        let folder = try Self.folder()
        #expect(try await CommandLineTests.run(["ingest", "photos/John_Simm-0.jpg"], in: folder).status == 0)
        // Another live process (this test's) holds the second photo.
        let library = try LocalLibrary(directory: folder.appendingPathComponent(".facecluster"))
        let file = folder.appendingPathComponent("photos/John_Simm-1.jpg")
        let reference = try #require(library.reference(forFile: file))
        let head = try await library.originals.head(reference.key)
        let held = Photo(
            id: PhotoID(reference), reference: reference, status: .processing, contentTag: head.eTag,
            addedAt: Date(), updatedAt: Date(),
            lease: Lease(owner: "other", expiresAt: Date().addingTimeInterval(600), worker: .current))
        try await library.metadata.savePhoto(held, expectedRevision: nil)

        let run = try await CommandLineTests.run(["ingest", "photos/John_Simm-0.jpg", "photos/John_Simm-1.jpg"], in: folder)
        #expect(run.status == 1, "a photo that is not done is not a success")
        #expect(run.output.contains("1 in progress elsewhere"), "\(run.output)")
        #expect(run.output.contains("busy    \(file.path): being processed by process \(getpid())"), "\(run.output)")

        // Once that process is gone (here: a lease naming a process that has exited), the next run takes it over.
        var gone = try #require(try await library.metadata.photo(held.id))
        gone.lease?.worker = WorkerIdentity(host: WorkerIdentity.current.host, processID: 999_999, processStart: WorkerIdentity.current.processStart)
        try await library.metadata.savePhoto(gone, expectedRevision: gone.revision)
        let after = try await CommandLineTests.run(["ingest", "photos/John_Simm-1.jpg"], in: folder)
        #expect(after.status == 0 && after.output.contains("1 with faces"), "\(after.output)")
    }
}
