import FaceClusterKit
import FaceClusterLocal
import Foundation

/// The background ingestion of `facecluster serve`: one worker pool shared by uploads and watched folders.
/// Photos run ``LocalLibrary/photosInFlight(jobs:)`` at a time, for the library's engines to analyse `jobs` of
/// them at once (the engine's dlib and decoding work is on threads of its own, so the server's requests are
/// answered meanwhile); when the queue drains, the people of every component touched are re-derived
/// (``Consolidation``, under the library's ``LibraryLock``) as `facecluster ingest` does at its end.
public actor IngestQueue {
    public let library: LocalLibrary
    /// Photos analysed at once: give the library as many engines (``LocalLibrary/engines(jobs:)``).
    public let jobs: Int
    private var waiting: [PhotoReference] = []
    private var queued: Set<PhotoReference> = []
    private var running = 0
    /// Photos queued again while they were running (a watched file replaced mid-analysis): run once more after.
    private var again: Set<PhotoReference> = []
    private var inFlight: Set<PhotoReference> = []
    private var touched: [FaceID] = []
    /// Faces whose consolidation failed: they join `touched` when the next photo is done.
    private var deferred: [FaceID] = []
    /// `touched`, on disk: what a server stopped before its queue drained leaves to the next consolidation.
    private lazy var unconsolidated = Task { [library] in try? await UnconsolidatedFaces.open(in: library.directory) }
    private var consolidating = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// Photos finished since the server started, by outcome (`indexed`, `failed`, …), for the log and `/healthz`.
    public private(set) var finished: [String: Int] = [:]
    private let log: @Sendable (String) -> Void

    public init(library: LocalLibrary, jobs: Int = LocalLibrary.defaultJobs, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.library = library
        self.jobs = max(1, jobs)
        self.log = log
    }

    /// Queues a photo unless it is waiting already; one that is running now runs once more when it is done
    /// (its file may have changed after it was read).
    public func enqueue(_ reference: PhotoReference) {
        if inFlight.contains(reference) {
            again.insert(reference)
            return
        }
        guard queued.insert(reference).inserted else { return }
        waiting.append(reference)
        startWorkers()
    }

    /// Queues what an earlier run left unfinished — photos handed back (`pending`, e.g. uploads the server
    /// was stopped before it got to) and ones left `processing` by a process that is gone (the pipeline takes
    /// those over at once, and passes over any a live process holds). Returns how many were queued.
    @discardableResult
    public func enqueueUnfinished() async throws -> Int {
        var count = 0
        let metadata = library.metadata
        for status in [PhotoStatus.Kind.pending, .processing] {
            var cursor: PageCursor?
            repeat {
                let page = try await metadata.photos(withStatus: status, page: PageRequest(limit: 500, cursor: cursor))
                for photo in page.items { enqueue(photo.reference) }
                count += page.items.count
                cursor = page.nextCursor
            } while cursor != nil
        }
        return count
    }

    /// Photos waiting and running.
    public var backlog: (waiting: Int, running: Int) { (waiting.count, running) }

    /// Returns once nothing is queued, running or being consolidated.
    public func waitUntilIdle() async {
        if isIdle { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private var isIdle: Bool { waiting.isEmpty && running == 0 && !consolidating && touched.isEmpty }

    private func startWorkers() {
        while running < LocalLibrary.photosInFlight(jobs: jobs), !waiting.isEmpty {
            let reference = waiting.removeFirst()
            running += 1
            inFlight.insert(reference)
            let pipeline = library.pipeline
            Task {
                let report = await pipeline.ingest(reference)
                self.done(reference, report)
            }
        }
    }

    private func done(_ reference: PhotoReference, _ report: IngestionReport) {
        running -= 1
        queued.remove(reference)
        inFlight.remove(reference)
        if again.remove(reference) != nil { enqueue(reference) }
        touched += deferred + report.faceIDs
        deferred = []
        if !report.faceIDs.isEmpty {
            let unconsolidated = self.unconsolidated
            Task { try? await unconsolidated.value?.record(report.faceIDs) }
        }
        let outcome = report.outcome.label
        finished[outcome, default: 0] += 1
        log("\(outcome): \(reference.displayPath)")
        startWorkers()
        settle()
    }

    /// Consolidates once the queue has drained, then wakes whoever waits for idleness.
    private func settle() {
        guard waiting.isEmpty, running == 0, !consolidating else { return }
        guard !touched.isEmpty else {
            let waiters = idleWaiters
            idleWaiters = []
            waiters.forEach { $0.resume() }
            return
        }
        let faces = touched
        touched = []
        consolidating = true
        let library = self.library
        let log = self.log
        let unconsolidated = self.unconsolidated
        Task {
            do {
                // With the faces a stopped or killed process left unconsolidated; this one's own file then holds
                // the faces grouped meanwhile.
                let regroup = { @Sendable (abandoned: [FaceID]) async throws -> Consolidation.Report in
                    try await library.engine.reloadVectors()
                    return try await Consolidation(pipeline: library.pipeline).run(touching: faces + abandoned)
                }
                let report = if let file = await unconsolidated.value {
                    try await file.consolidate(in: library, remaining: { await self.touched + self.deferred }, regroup)
                } else {
                    try await library.lock.withLock { try await regroup([]) }
                }
                if !report.merges.isEmpty || !report.moves.isEmpty {
                    log("regrouped: \(report.merges.count) merges, \(report.moves.count) faces moved")
                }
            } catch {
                log("regrouping failed: \(error)")
                // Kept (and on disk) for the drain after the next photo: retrying at once could loop.
                self.deferred += faces
            }
            self.consolidated()
        }
    }

    private func consolidated() {
        consolidating = false
        settle()
    }
}

extension IngestionReport.Outcome {
    /// A word for the log: `indexed`, `no_faces`, `failed`, `skipped`, …
    var label: String {
        switch self {
        case .indexed: "indexed"
        case .noFaces: "no_faces"
        case .failed: "failed"
        case .skipped: "unchanged"
        case .inProgressElsewhere: "busy"
        case .interrupted: "interrupted"
        }
    }
}
