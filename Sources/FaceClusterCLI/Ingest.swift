import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster ingest PATH…`: finds the faces in photos and groups them into people.
struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Find the faces in photos (files or folders, recursively) and group them into people.",
        discussion: """
            Photos are referenced where they are, not copied (unless --copy). Running it again changes nothing \
            for photos already done; a photo whose file changed is processed again. A folder's files that are \
            not photos by their extension (sidecars, videos) are passed over and counted, and so are sidecars, \
            videos and notes named on the command line (as `Takeout/*` names them); any other file that is not \
            a photo gets a failure line, and the rest go on. \
            Hidden files are left out, links followed, and the library's own folder (--store) never scanned. \
            Photos are read by their content (JPEG, PNG, WebP, HEIC), whatever their extension. Exit status 1 \
            when some photos failed.
            """)

    @Argument(help: "Photo files and folders.")
    var paths: [String]

    @OptionGroup var options: StoreOptions

    @Flag(help: "Copy the photos into the store (STORE/photos) and reference the copies.")
    var copy = false

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Photos analysed at once, each on a core; the default is one per core.",
        discussion: "Two photos a job are in flight, one waiting its turn or having its records and thumbnails written while the other is analysed; jobs beyond the cores only put more photos in flight."))
    var jobs = LocalLibrary.defaultJobs

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "The smallest face, in pixels of the photo, to look for in big photos (0: faces the first pass sees: all of a photo up to 4 MP, from 320 px of a 12 MP one).",
        discussion: "Big photos get a second, tiled pass that finds faces down to this size: about 1 s more for a 12 MP photo, 4–5 s for 48 MP, 8–9 s for 100 MP, on 2 cores; above 100 MP the smallest face found is 160 px."))
    var smallestFace = 80


    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one photo file or folder") }
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64") }
        guard (0...10_000).contains(smallestFace) else { throw ValidationError("--smallest-face must be between 0 and 10000 pixels") }
    }

    func run() async throws {
        var collected = Self.collect(paths, excluding: options.directory)
        let (files, passedOver) = (collected.files, collected.passedOver)
        for problem in collected.unreadable { printError("error: cannot read \(shown(problem))") }
        guard !files.isEmpty else {
            if !collected.unreadable.isEmpty, collected.unreadable.count == paths.count { throw ExitCode(2) }
            throw CLIFailure(message: "error: no photos in \(paths.joined(separator: ", "))\(passedOver.isEmpty ? "" : " (only \(Self.describe(passedOver)))")")
        }
        let library = try options.open(engine: LocalFaceEngine.Configuration(smallestFace: smallestFace, engines: LocalLibrary.engines(jobs: jobs)))
        var sources = files
        if copy {
            let copied = try Self.copy(files, into: library.directory.appendingPathComponent("photos"))
            for problem in copied.unreadable { printError("error: \(shown(problem))") }
            sources = copied.copies
            collected.unreadable += copied.unreadable
        }
        // Two paths to one file (a link beside its target) are one photo, ingested once: twice at the same time,
        // the second found the first's claim and reported the photo busy, held by this very process.
        var seen = Set<PhotoReference>()
        let references = sources.compactMap { library.reference(forFile: $0) }.filter { seen.insert($0).inserted }
        let interactive = !options.json && isatty(STDERR_FILENO) == 1
        let stop = StopSignal.install(secondMessage: "\nStopped at once. The next run takes over what was in progress.") { _ in
            printError("\(interactive ? "\r\u{1B}[K" : "")Stopping: finishing the photos in progress (Ctrl-C again to stop at once)…")
        }

        let before = try await Page.all(pageSize: 1000) { try await library.gallery.people(page: $0) }.count
        let progress = Progress(total: references.count, interactive: interactive)
        let started = ContinuousClock.now
        let pipeline = library.pipeline(forTesting: ProcessInfo.processInfo.environment)
        // Each photo's faces are noted on disk as it finishes: a run stopped before its consolidation leaves
        // them to the next run's.
        let unconsolidated = try await UnconsolidatedFaces.open(in: library.directory)
        try await library.lock.check()  // the consolidation at the end takes it: a lock that cannot be, fails now
        let outcomes = await Self.ingest(references, with: pipeline, jobs: jobs, stop: stop) { report in
            try? await unconsolidated.record(report.faceIDs)
            await progress.advance(report)
        }
        await progress.finish()
        // Re-derive the people of every component this run touched (Consolidation), and of those a stopped or
        // killed run left: the result does not depend on the order the photos were processed in.
        let touched = outcomes.compactMap { $0 }.flatMap(\.faceIDs)
        var regrouped: Consolidation.Report?
        if stop.received == nil {
            // One consolidation at a time per library; faces another `ingest` indexed meanwhile join the evidence.
            regrouped = try await unconsolidated.consolidate(in: library) { abandoned in
                guard !touched.isEmpty || !abandoned.isEmpty else { return nil }
                try await library.engine.reloadVectors()
                return try await Consolidation(pipeline: pipeline).run(touching: touched + abandoned)
            }
            try await unconsolidated.remove()
        }
        let people = try await Page.all(pageSize: 1000) { try await library.gallery.people(page: $0) }
        var summary = IngestSummary(
            reports: outcomes.compactMap { $0 }, notStarted: outcomes.filter { $0 == nil }.count, stoppedBy: stop.received,
            peopleBefore: before, people: people.count, elapsed: ContinuousClock.now - started)
        summary.regrouped = regrouped.map(RegroupSummary.init)
        summary.notPhotos = passedOver
        summary.unreadable = collected.unreadable.count
        summary.unassignedFaces = try await Page.all(pageSize: 1000) { try await library.gallery.unassignedFaces(page: $0) }
            .map(\.faceCount).reduce(0, +)
        if summary.unchanged > 0 {
            // A photo that failed before is "unchanged" on a re-run: say so, rather than look all clear.
            let unchanged = Set(outcomes.compactMap { $0 }.filter { if case .skipped = $0.outcome { true } else { false } }.map(\.reference))
            summary.failedBefore = try await Page.all(pageSize: 1000) { try await library.metadata.photos(withStatus: .failed, page: $0) }
                .filter { unchanged.contains($0.reference) }.count
        }
        if options.json {
            try printJSON(summary)
        } else {
            print(summary.text)
        }
        if let status = stop.exitStatus { throw ExitCode(status) }
        if summary.failed > 0 || summary.inProgressElsewhere > 0 || !collected.unreadable.isEmpty { throw ExitCode(1) }
    }

    /// How long photos in progress may take to finish after a stop is asked for, before they are handed back.
    static let stopGrace: Duration = .seconds(5)

    /// Ingests `references`, ``LocalLibrary/photosInFlight(jobs:)`` at a time (the library's engines analyse
    /// `jobs` of them at once); one slot per reference, `nil` for those not started because a
    /// stop was asked for. On a stop, photos in progress get ``stopGrace`` to finish; then they are cancelled,
    /// and the pipeline hands each back (``IngestionReport/Outcome/interrupted``).
    static func ingest(
        _ references: [PhotoReference], with pipeline: IngestionPipeline, jobs: Int, stop: StopSignal,
        progress: @escaping @Sendable (IngestionReport) async -> Void
    ) async -> [IngestionReport?] {
        let work = Task {
            await withTaskGroup(of: (Int, IngestionReport).self) { group in
                var results = [IngestionReport?](repeating: nil, count: references.count)
                var next = 0
                func startNext() {
                    guard next < references.count, stop.received == nil else { return }
                    let position = next
                    next += 1
                    group.addTask {
                        let report = await pipeline.ingest(references[position])
                        await progress(report)
                        return (position, report)
                    }
                }
                for _ in 0..<LocalLibrary.photosInFlight(jobs: jobs) { startNext() }
                while let (position, report) = await group.next() {
                    results[position] = report
                    startNext()
                }
                return results
            }
        }
        let watcher = Task {
            guard await stop.wait() != nil else { return }
            try? await Task.sleep(for: stopGrace)
            work.cancel()
        }
        let results = await work.value
        watcher.cancel()
        return results
    }

    /// Extensions of the files a folder scan takes as photos (``LocalLibrary/photoExtensions``); the rest of a
    /// folder is passed over and counted. A file named on the command line is tried, whatever its name, and fails
    /// with its reason when it is not a photo, unless its extension is a photo's companion's
    /// (``LocalLibrary/companionExtensions``: a sidecar, a video, a note), which is passed over as in a folder.
    static let photoExtensions = LocalLibrary.photoExtensions

    /// What a scan of the command line's paths found.
    struct Collected {
        /// The photos to try, in path order.
        var files: [URL] = []
        /// How many files of each other extension the folders held.
        var passedOver: [String: Int] = [:]
        /// The files counted in `passedOver` (real paths): one named and found in a folder too counts once.
        var passedOverFiles: Set<String> = []

        mutating func passOver(_ file: URL) {
            guard passedOverFiles.insert(file.resolvingSymlinksInPath().path).inserted else { return }
            let ext = file.pathExtension.lowercased()
            passedOver[ext.isEmpty ? "(no extension)" : "." + ext, default: 0] += 1
        }
        /// Paths that could not be read: a path that does not exist, a folder that cannot be listed.
        var unreadable: [String] = []
    }

    /// The files under `paths`, folders recursively: hidden files and folders left out, symbolic links followed
    /// (each folder once, so a link to a folder above it ends), and the library's own folder (`library`, whose
    /// thumbnails are photos of faces) never entered. A path that does not exist or a folder that cannot be
    /// listed is reported and the rest go on.
    static func collect(_ paths: [String], excluding library: URL) -> Collected {
        var collected = Collected()
        let libraryPath = library.standardizedFileURL.resolvingSymlinksInPath().path
        var visited: Set<String> = []
        func walk(_ folder: URL) {
            let real = folder.resolvingSymlinksInPath().path
            guard real != libraryPath, !real.hasPrefix(libraryPath + "/"), visited.insert(real).inserted else { return }
            let names: [String]
            do {
                // Listed by its real path: Foundation lists a link to a folder as empty.
                names = try FileManager.default.contentsOfDirectory(atPath: real).filter { !$0.hasPrefix(".") }.sorted()
            } catch {
                collected.unreadable.append("\(folder.path): \(Self.reason(error))")
                return
            }
            for entry in names.map({ folder.appendingPathComponent($0) }) {
                var isFolder: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: entry.path, isDirectory: &isFolder)  // follows links
                if exists && isFolder.boolValue {
                    walk(entry)
                    continue
                }
                // A regular file, or a link to nothing (tried like a file, so it fails with its reason).
                let ext = entry.pathExtension.lowercased()
                if !exists, LocalLibrary.nameIsNotUTF8(entry) {
                    collected.unreadable.append("\(entry.path): \(LocalLibrary.notUTF8Name)")
                } else if photoExtensions.contains(ext) {
                    if Self.isSpecialFile(entry.path) {
                        collected.unreadable.append("\(entry.path): \(Self.specialFile)")
                    } else {
                        collected.files.append(entry.standardizedFileURL)
                    }
                } else if exists {
                    collected.passOver(entry)
                }
            }
        }
        for path in paths {
            var isFolder: ObjCBool = false
            let url = URL(fileURLWithPath: path).standardizedFileURL
            if !FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
                collected.unreadable.append("\(path): \(LocalLibrary.nameIsNotUTF8(url) ? LocalLibrary.notUTF8Name : "no such file or folder")")
            } else if isFolder.boolValue {
                walk(url)
            } else if Self.isSpecialFile(path) {
                collected.unreadable.append("\(path): \(Self.specialFile)")
            } else if LocalLibrary.companionExtensions.contains(url.pathExtension.lowercased()) {
                collected.passOver(url)
            } else {
                collected.files.append(url)
            }
        }
        collected.files = Array(Set(collected.files)).sorted { $0.path < $1.path }
        return collected
    }

    /// Whether `path` (links followed) is neither a regular file nor a folder: a device (`/dev/zero`), a pipe or a
    /// socket, which would be read forever or never; such a path is reported, not ingested.
    static func isSpecialFile(_ path: String) -> Bool {
        var status = stat()
        guard stat(path, &status) == 0 else { return false }
        let type = status.st_mode & S_IFMT
        return type != S_IFREG && type != S_IFDIR
    }

    static let specialFile = "not a regular file (a device, pipe or socket)"

    /// Why a folder could not be listed, in a few words.
    static func reason(_ error: any Error) -> String {
        (error as? CocoaError)?.code == .fileReadNoPermission ? "permission denied" : error.localizedDescription
    }

    /// `12 files that are not photos (.json ×10, .mov ×2)`, `1 file that is not a photo (.txt ×1)`.
    static func describe(_ passedOver: [String: Int]) -> String {
        let total = passedOver.values.reduce(0, +)
        let kinds = passedOver.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }
        return "\(total) file\(total == 1 ? " that is not a photo" : "s that are not photos") (\(kinds.joined(separator: ", ")))"
    }

    /// Copies `files` into `folder` (same name; a different file with the same name gets a numbered one). A
    /// symbolic link is followed: the copy is of the file it leads to (a copied link would still depend on the
    /// original, or lead nowhere from inside the store). A file that cannot be copied is reported in
    /// `unreadable` and the others go on.
    static func copy(_ files: [URL], into folder: URL) throws -> (copies: [URL], unreadable: [String]) {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var copies: [URL] = [], unreadable: [String] = []
        var copyOf: [String: URL] = [:]  // links to one file: one copy
        for file in files {
            let source = file.resolvingSymlinksInPath()
            if let copy = copyOf[source.path] {
                copies.append(copy)
                continue
            }
            var target = folder.appendingPathComponent(file.lastPathComponent)
            var number = 1
            guard FileManager.default.fileExists(atPath: source.path) else {  // follows links: false for a dangling or looping one
                unreadable.append("\(file.path): cannot copy it: it is a link that leads nowhere")
                continue
            }
            do {
                while FileManager.default.fileExists(atPath: target.path) {
                    if FileManager.default.contentsEqual(atPath: target.path, andPath: source.path) { break }
                    number += 1
                    target = folder.appendingPathComponent("\(file.deletingPathExtension().lastPathComponent)-\(number).\(file.pathExtension)")
                }
                if !FileManager.default.fileExists(atPath: target.path) { try FileManager.default.copyItem(at: source, to: target) }
                copies.append(target)
                copyOf[source.path] = target
            } catch {
                unreadable.append("\(file.path): cannot copy it: \(Self.reason(error))")
            }
        }
        return (copies, unreadable)
    }
}


extension LocalLibrary {
    /// The library's pipeline; with `FACECLUSTER_TEST_STEP_DELAY_MS=N` in the environment every metadata call
    /// first waits N ms, so tests can stop or kill a run in the middle of a photo, at a step of their choosing.
    func pipeline(forTesting environment: [String: String]) -> IngestionPipeline {
        guard let text = environment["FACECLUSTER_TEST_STEP_DELAY_MS"], let milliseconds = Int(text), milliseconds > 0 else { return pipeline }
        let slow = FaultInjector(rules: [.delay(.milliseconds(milliseconds))])
        return IngestionPipeline(
            photos: pipeline.photos, thumbnails: pipeline.thumbnails, detector: pipeline.detector, index: pipeline.index,
            metadata: metadata.intercepted(by: slow), cropper: pipeline.cropper, clock: pipeline.clock,
            configuration: pipeline.configuration)
    }
}
