import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster repair`: finds and fixes what a crash or a bug can leave in the library (``LibraryRepair``),
/// then ingests the photos that were left unfinished.
struct Repair: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Find and fix what a crash left behind: stuck photos, stray faces and thumbnails, wrong counts.",
        discussion: """
            Looks for photos stuck in processing (their lease expired or their process is gone) or handed back \
            by a stopped run, faces in the index that no person holds, appearances whose thumbnail is missing, \
            thumbnails nobody points to, people with no photo, and counts that disagree with the photos; fixes \
            each, then ingests the unfinished photos. Photos whose file is gone (moved or deleted) are listed, not \
            removed: a drive that is only unmounted comes back; `facecluster delete PATH` removes one. Safe while another `ingest` runs: photos it holds are left \
            alone. First it runs SQLite's integrity check on the database: when that finds damage, repair \
            changes nothing and says how to restore or recover the file. Exit status 0 when the library is \
            sound (or was repaired), 1 when problems remain (always, with --dry-run, when any were found).
            """)

    @Flag(help: "Only list the problems; change nothing.")
    var dryRun = false

    @OptionGroup var options: StoreOptions

    struct Output: Encodable {
        var problems: [RepairReport.Problem]
        /// Every problem found was fixed: `false` for a dry run, and when one has `notFixed` (until 2026-12-05
        /// it meant only "not a dry run", and read `true` beside problems that could not be fixed).
        var fixed: Bool
        var dryRun: Bool
        var photosToIngest: [String]
        var ingested: IngestSummary?
    }

    func run() async throws {
        // A damaged database first, before the library is opened (which reads through it and writes): the checks
        // below would trust what it still answers, and every fix would write into it.
        let file = options.directory.appendingPathComponent(LocalLibrary.databaseFile)
        let damage = FileManager.default.fileExists(atPath: file.path) ? try await LocalDatabase.integrityProblems(ofFileAt: file.path) : []
        guard damage.isEmpty else {
            var report = RepairReport()
            report.problems = damage.map {
                .init(kind: .damagedDatabase, subject: LocalLibrary.databaseFile, detail: $0, notFixed: Self.damagedDatabaseAdvice)
            }
            if options.json {
                try printJSON(Output(problems: report.problems, fixed: false, dryRun: dryRun, photosToIngest: [], ingested: nil))
            } else {
                print(Self.damagedText(damage, store: options.directory))
            }
            throw ExitCode(1)
        }
        let library = try options.openExisting()
        let pipeline = library.pipeline(forTesting: ProcessInfo.processInfo.environment)
        var report = try await LibraryRepair(pipeline: pipeline).run(dryRun: dryRun)
        // Half-written files a killed process left in the thumbnail folder (the store writes a temporary file,
        // then renames it).
        for file in try library.thumbnails.temporaryFiles(olderThan: .seconds(60)) {
            report.problems.append(.init(kind: .orphanThumbnail, subject: file, detail: "a half-written file a stopped process left"))
            if !dryRun { try? FileManager.default.removeItem(atPath: library.thumbnails.root.appendingPathComponent(file).path) }
        }
        // Photos whose file is gone since: listed, never removed here (a drive that is only unmounted comes back).
        let done = try await Page.all(pageSize: 1000) { try await library.metadata.photos(withStatus: .indexed, page: $0) }
            + Page.all(pageSize: 1000) { try await library.metadata.photos(withStatus: .noFaces, page: $0) }
        let gone = try await library.withFileGone(done)
        for photo in done.filter({ gone.contains($0.id) }).sorted(by: { $0.reference.key < $1.reference.key }) {
            report.problems.append(.init(
                kind: .missingOriginal, subject: displayPath(photo.reference), detail: "the file is gone (moved or deleted since it was ingested)",
                notFixed: "kept in case it comes back (a drive not mounted); `facecluster delete PATH` takes it out of the library"))
        }
        // Faces a stopped or killed run grouped and never consolidated (UnconsolidatedFaces): listed by a dry run,
        // consolidated below with those this repair ingests, as at the end of `ingest`.
        let unconsolidated = dryRun ? nil : try await UnconsolidatedFaces.open(in: library.directory)
        var ingested: IngestSummary?
        var ingestedFaces: [FaceID] = []
        var stopStatus: Int32?
        if let unconsolidated, !report.photosToIngest.isEmpty {
            let stop = StopSignal.install { _ in printError("Stopping: finishing the photos in progress (Ctrl-C again to stop at once)…") }
            let started = ContinuousClock.now
            let people = try await Page.all(pageSize: 1000) { try await library.gallery.people(page: $0) }.count
            let outcomes = await Ingest.ingest(
                report.photosToIngest, with: pipeline, jobs: LocalLibrary.defaultJobs, stop: stop) { photo in
                    try? await unconsolidated.record(photo.faceIDs)
                }
            let after = try await Page.all(pageSize: 1000) { try await library.gallery.people(page: $0) }.count
            ingested = IngestSummary(
                reports: outcomes.compactMap { $0 }, notStarted: outcomes.filter { $0 == nil }.count, stoppedBy: stop.received,
                peopleBefore: people, people: after, elapsed: ContinuousClock.now - started)
            stopStatus = stop.exitStatus
            ingestedFaces = outcomes.compactMap { $0 }.flatMap(\.faceIDs)
        }
        var leftBehind: [(file: String, faces: Int)] = []
        if let unconsolidated, stopStatus == nil {
            leftBehind = try await unconsolidated.consolidate(in: library) { (abandoned: UnconsolidatedFaces.Abandoned) in
                if !(abandoned.faces + ingestedFaces).isEmpty {
                    try await library.engine.reloadVectors()
                    _ = try await Consolidation(pipeline: pipeline).run(touching: abandoned.faces + ingestedFaces)
                }
                return abandoned.sources
            }
            try await unconsolidated.remove()
        } else {
            leftBehind = try await UnconsolidatedFaces.abandoned(in: library.directory)
        }
        for (file, faces) in leftBehind {
            report.problems.append(.init(
                kind: .unconsolidatedFaces, subject: file,
                detail: "\(faces) face\(faces == 1 ? "" : "s") grouped by a stopped or killed run and not yet regrouped (repair, the next ingest or recluster regroups them)",
                notFixed: stopStatus == nil ? nil : "repair was stopped before regrouping them"))
        }
        let unfixed = report.problems.filter { $0.notFixed != nil }.count
        if options.json {
            try printJSON(Output(
                problems: report.problems, fixed: report.fixed && unfixed == 0, dryRun: dryRun,
                photosToIngest: report.photosToIngest.map(displayPath), ingested: ingested))
        } else {
            print(Self.text(report, dryRun: dryRun, ingested: ingested))
        }
        if let stopStatus { throw ExitCode(stopStatus) }
        let ingestLeftSome = ingested.map { $0.failed + $0.inProgressElsewhere + $0.interrupted + $0.notStarted > 0 } ?? false
        if (dryRun && !report.isClean) || unfixed > 0 || ingestLeftSome { throw ExitCode(1) }
    }

    static let damagedDatabaseAdvice = "SQLite cannot mend a damaged page in place: restore the file from a backup, or build the library again from the photos; nothing else was checked or changed"

    static func damagedText(_ damage: [String], store: URL) -> String {
        let file = store.appendingPathComponent(LocalLibrary.databaseFile).path
        return ([
            "The library's database is damaged (SQLite's integrity check, \(damage.count) finding\(damage.count == 1 ? "" : "s")); nothing else was checked or changed:"
        ] + damage.map { "  damaged_database: \($0)" } + [
            "Stop every facecluster process using it, then restore \(file) (with its -wal file, if any) from a backup;",
            "or set the library aside and build it again from your photos (names, merges and moves are lost):",
            "  mv '\(store.path)' '\(store.path).damaged' && facecluster ingest PHOTOS… --store '\(store.path)'",
        ]).joined(separator: "\n")
    }

    static func text(_ report: RepairReport, dryRun: Bool, ingested: IngestSummary?) -> String {
        guard !report.isClean else { return "The library is sound: nothing to repair." }
        var lines = report.problems.map { "  " + shown("\($0)") }
        let counts = Dictionary(report.problems.map { ($0.kind.rawValue, 1) }, uniquingKeysWith: +).sorted { $0.key < $1.key }
        let total = report.problems.count
        let summary = counts.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        let unfixed = report.problems.filter { $0.notFixed != nil }.count
        lines.insert(dryRun ? "Found \(total) problem\(total == 1 ? "" : "s") (\(summary)); nothing changed (--dry-run):"
                            : unfixed == 0 ? "Found and fixed \(total) problem\(total == 1 ? "" : "s") (\(summary)):"
                            : "Found \(total) problem\(total == 1 ? "" : "s") (\(summary)) and fixed \(total - unfixed); \(unfixed) could not be fixed:", at: 0)
        if let ingested { lines.append("Ingested the unfinished photos: " + ingested.text) }
        return lines.joined(separator: "\n")
    }
}
