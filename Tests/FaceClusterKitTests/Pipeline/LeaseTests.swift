@testable import FaceClusterKit
import Foundation
import Testing

/// Leases that follow their worker: they end with a deadline, they name their process so a photo whose process
/// is gone is taken over at once, and a cancelled attempt hands its photo back.
@Suite("Ingestion: leases follow their worker")
struct LeaseTests {
    static func crashed(_ configuration: IngestionPipeline.Configuration) async throws -> (Harness, PhotoReference) {
        var harness = Harness()
        harness.configuration = configuration
        let reference = try await harness.upload(Layout.photo([Identity(1), Identity(2)]), as: "raw/party.jpg")
        let crashed = await harness.pipeline(faults: FaultInjector(rules: [.crashAt(8)])).ingest(reference)
        #expect(crashed.shouldRetry)
        #expect(try await harness.metadata.photo(crashed.photoID)?.status == .processing)
        return (harness, reference)
    }

    /// A process on this machine that has certainly exited: an id no process has, with this boot's stamp.
    static var exitedWorker: WorkerIdentity {
        WorkerIdentity(host: WorkerIdentity.current.host, processID: 999_999, processStart: WorkerIdentity.current.processStart)
    }

    @Test("this process is alive; a process id no process has, or a start time from another boot, has exited")
    func liveness() throws {
        try #require(WorkerIdentity.current.processStart != nil, "needs /proc")
        #expect(!WorkerIdentity.current.hasExited)
        #expect(Self.exitedWorker.hasExited)
        var rebooted = WorkerIdentity.current
        rebooted.processStart = "another-boot:12345"
        #expect(rebooted.hasExited)
        var elsewhere = Self.exitedWorker
        elsewhere.host = "another-host"
        #expect(!elsewhere.hasExited, "nothing can be known of a process on another machine")
    }

    @Test("a worker killed and not yet reaped (a zombie) has exited")
    func zombieHasExited() throws {
        try #require(WorkerIdentity.current.processStart != nil, "needs /proc")
        var pid: pid_t = 0
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("30"), nil]
        defer { arguments.forEach { free($0) } }
        try #require(posix_spawn(&pid, "/bin/sleep", nil, nil, arguments, environ) == 0)
        let worker = WorkerIdentity(host: WorkerIdentity.current.host, processID: pid, processStart: WorkerIdentity.startStamp(of: pid))
        #expect(worker.processStart != nil && !worker.hasExited)
        kill(pid, SIGKILL)
        // Not reaped yet: the kernel keeps it as a zombie with the same id and start time.
        var state = ""
        for _ in 0..<200 where state != "Z" {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            state = stat.split(separator: ")").last?.split(separator: " ").first.map(String.init) ?? ""
            if state != "Z" { usleep(10_000) }
        }
        #expect(state == "Z")
        #expect(worker.hasExited)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    @Test("a photo whose worker process has exited is taken over at once, without waiting for the lease")
    func exitedHolderIsReclaimed() async throws {
        let (harness, reference) = try await Self.crashed(.init(worker: Self.exitedWorker, reclaimsLeasesOfExitedProcesses: true))
        let photo = try #require(try await harness.metadata.photo(PhotoID(reference)))
        #expect(photo.lease?.worker == Self.exitedWorker)
        var next = harness
        next.configuration = .init(worker: .current, reclaimsLeasesOfExitedProcesses: true)
        #expect(await next.pipeline().ingest(reference).outcome == .indexed)
    }

    @Test("a live holder, or one on another machine, keeps the photo until its lease ends; so does everyone without the local rule")
    func liveHolderKeepsIt() async throws {
        var elsewhere = Self.exitedWorker
        elsewhere.host = "another-host"
        for (holder, rule) in [(WorkerIdentity.current, true), (elsewhere, true), (Self.exitedWorker, false)] {
            let (harness, reference) = try await Self.crashed(.init(worker: holder, reclaimsLeasesOfExitedProcesses: rule))
            var next = harness
            next.configuration = .init(worker: .current, reclaimsLeasesOfExitedProcesses: rule)
            let report = await next.pipeline().ingest(reference)
            guard case .inProgressElsewhere(let lease) = report.outcome else {
                Issue.record("\(holder) \(rule): expected the photo held elsewhere, got \(report.outcome)")
                continue
            }
            #expect(lease.worker == holder)
            harness.clock.advance(by: .seconds(901))
            #expect(await next.pipeline().ingest(reference).outcome == .indexed)
        }
    }

    @Test("with a lease deadline (a Lambda's), the claim ends then, not after the lease duration")
    func leaseDeadline() async throws {
        let harness = Harness()
        let deadline = harness.clock.now().addingTimeInterval(130)
        var configured = harness
        configured.configuration = .init(leaseDeadline: deadline)
        let reference = try await harness.upload(Layout.photo([Identity(1)]), as: "raw/one.jpg")
        let crashed = await configured.pipeline(faults: FaultInjector(rules: [.crashAt(8)])).ingest(reference)
        #expect(crashed.shouldRetry)
        #expect(try await harness.metadata.photo(crashed.photoID)?.lease?.expiresAt == deadline)
        harness.clock.advance(by: .seconds(129))
        if case .inProgressElsewhere = await harness.pipeline().ingest(reference).outcome {} else { Issue.record("the lease ended early") }
        harness.clock.advance(by: .seconds(2))
        #expect(await harness.pipeline().ingest(reference).outcome == .indexed)
    }

    @Test("a cancelled attempt stops at the next step and hands the photo back; the next attempt completes it", arguments: [1, 3, 6, 9, 12])
    func cancellationHandsBack(afterCalls calls: Int) async throws {
        let harness = Harness()
        let clean = Harness()
        let reference = try await harness.upload(Layout.photo([Identity(1), Identity(2)]), as: "raw/party.jpg")
        try await clean.upload(Layout.photo([Identity(1), Identity(2)]), as: "raw/party.jpg")
        #expect(await clean.pipeline().ingest(reference).outcome == .indexed)

        // Every port call takes 20 ms; the attempt is cancelled while call `calls` runs.
        let slow = harness.pipeline(faults: FaultInjector(rules: [.delay(.milliseconds(20))]))
        let attempt = Task { await slow.ingest(reference) }
        try await Task.sleep(for: .milliseconds(20 * calls + 10))
        attempt.cancel()
        let report = await attempt.value
        if report.outcome == .interrupted {
            // Cancelled before the claim, there is no record to hand back.
            if let photo = try await harness.metadata.photo(report.photoID) {
                #expect(photo.status == .pending && photo.lease == nil, "handed back: \(photo.status)")
            }
            #expect(report.shouldRetry)
        } else {
            #expect(report.outcome == .indexed, "cancelled after the last step it may only have finished: \(report.outcome)")
        }
        #expect(await harness.pipeline().ingest(reference).outcome == .indexed || report.outcome == .indexed)
        let snapshot = try await harness.snapshot()
        #expect(snapshot.sameGallery(as: try await clean.snapshot()), "\(snapshot)")
    }

    /// Refuses every thumbnail write, as a store the process may not write to does.
    struct ThumbnailsReadOnly: PortInterceptor {
        func intercept<Result: Sendable>(_ operation: PortOperation, _ call: @Sendable () async throws -> Result) async throws -> Result {
            if operation.port == "PhotoStore", operation.name == "put" { throw PhotoStoreError.accessDenied(key: "thumbnail", detail: "read-only") }
            return try await call()
        }
    }

    @Test("a photo that fails for good after its faces were indexed takes them out of the index again")
    func permanentFailureCleansUp() async throws {
        let harness = Harness()
        let reference = try await harness.upload(Layout.photo([Identity(1), Identity(2)]), as: "raw/party.jpg")
        let pipeline = harness.pipeline()
        func readOnly<S: PhotoStore>(_ store: S) -> any PhotoStore { store.intercepted(by: ThumbnailsReadOnly()) }
        let failing = IngestionPipeline(
            photos: pipeline.photos, thumbnails: readOnly(harness.thumbnails), detector: pipeline.detector, index: pipeline.index,
            metadata: pipeline.metadata, cropper: pipeline.cropper, clock: harness.clock, configuration: pipeline.configuration)
        let report = await failing.ingest(reference)
        guard case .failed(let failure) = report.outcome else { Issue.record("expected a failure, got \(report.outcome)"); return }
        #expect(!failure.retryable && failure.code == .accessDenied)
        #expect(await harness.indexedFaceCount() == 0, "no face left in the index that no one will ever group")
        let photo = try #require(try await harness.metadata.photo(report.photoID))
        #expect(photo.faceIDs.isEmpty && photo.lease == nil)
        #expect(try await LibraryRepair(pipeline: harness.pipeline()).run(dryRun: true).isClean)
        // Once the store may be written again, the next run processes the photo: access denied is not final.
        #expect(await harness.pipeline().ingest(reference).outcome == .indexed)
        #expect(await harness.indexedFaceCount() == 2)
    }
}
