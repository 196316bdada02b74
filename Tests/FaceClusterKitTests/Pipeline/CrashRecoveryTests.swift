import FaceClusterKit
import Foundation
import Testing

@Suite("Ingestion: crash and retry")
struct CrashRecoveryTests {
    /// Photo 1 holds Alice and Bob; photo 2 (the one that crashes) holds Alice (known), Dan (new) and a face
    /// too small to keep: every kind of step runs for it.
    static func prepare(_ plan: CallPlan, _ backend: Backend = .inMemory) async throws -> (Harness, PhotoReference) {
        let harness = try await Harness.make(backend, callPlan: plan)
        try await harness.add(Layout.photo([Identity(1), Identity(2)]), as: "raw/1.jpg")
        let crashing = SyntheticPhoto(width: 1200, height: 900, faces: [
            Identity(1).face(Layout.box(0), variant: 3), Identity(4).face(Layout.box(1)),
            Identity(5).face(BoundingBox(left: 0.8, top: 0.1, width: 0.02, height: 0.02)),
        ])
        return (harness, try await harness.upload(crashing, as: "raw/2.jpg"))
    }

    /// How many port calls a clean ingestion of the crashing photo makes, and the gallery it leaves.
    static func cleanRun(_ plan: CallPlan, _ backend: Backend) async throws -> (calls: Int, snapshot: GallerySnapshot) {
        let (harness, reference) = try await prepare(plan, backend)
        let counting = FaultInjector(rules: [])
        let report = await harness.pipeline(faults: counting).ingest(reference)
        #expect(report.outcome == .indexed)
        return (counting.callCount, try await harness.snapshot())
    }

    enum Mode: String, CaseIterable, Sendable { case failOneCall, crashProcess }

    struct Scenario: Sendable, CustomTestStringConvertible {
        var plan: CallPlan
        var mode: Mode
        var backend: Backend
        var testDescription: String { "\(plan) \(mode) \(backend.rawValue)" }
    }

    static let scenarios: [Scenario] = CallPlan.allCases.flatMap { plan in
        Mode.allCases.flatMap { mode in Backend.available.map { Scenario(plan: plan, mode: mode, backend: $0) } }
    }

    @Test("a failure injected at every step, then retries, leaves the same gallery as a clean run", arguments: scenarios)
    func crashAtEveryStep(_ scenario: Scenario) async throws {
        let (plan, mode) = (scenario.plan, scenario.mode)
        let clean = try await Self.cleanRun(plan, scenario.backend)
        #expect(clean.calls > 15)
        for step in 1...clean.calls {
            let (harness, reference) = try await Self.prepare(plan, scenario.backend)
            let rule: FaultInjector.Rule = mode == .failOneCall ? .failCall(step) : .crashAt(step)
            let failed = await harness.pipeline(faults: FaultInjector(rules: [rule])).ingest(reference)
            if mode == .crashProcess {
                // The process died at `step`: nothing after it ran. A retry waits until the lease expires.
                harness.clock.advance(by: .seconds(901))
            }
            var outcome = failed.outcome
            for _ in 0..<3 where outcome != .indexed {
                outcome = await harness.pipeline().ingest(reference).outcome
            }
            #expect(outcome == .indexed, "step \(step): \(failed.outcome) then \(outcome)")
            let snapshot = try await harness.snapshot()
            #expect(snapshot.sameGallery(as: clean.snapshot), "step \(step) (\(failed.outcome)): \(snapshot) vs \(clean.snapshot)")
            #expect(snapshot.thumbnailKeys.isSubset(of: snapshot.storedThumbnails), "step \(step): an appearance lost its thumbnail")
        }
    }

    @Test("a failure is recorded on the photo with its reason, and is retryable", arguments: Backend.available)
    func failureRecorded(backend: Backend) async throws {
        let (harness, reference) = try await Self.prepare(.indexed, backend)
        let report = await harness.pipeline(faults: FaultInjector(rules: [.failOperation("FaceIndex.indexFaces", times: 1)])).ingest(reference)
        guard case .failed(let failure) = report.outcome else { Issue.record("expected a failure, got \(report.outcome)"); return }
        #expect(failure.code == .injectedFault && failure.retryable)
        #expect(report.shouldRetry)
        let photo = try #require(try await harness.metadata.photo(report.photoID))
        #expect(photo.status == .failed(failure))
        #expect(photo.lease == nil)
    }

    @Test("a photo claimed by a live worker is left alone; once its lease expires another worker takes over", arguments: Backend.available)
    func leaseTakeover(backend: Backend) async throws {
        let (harness, reference) = try await Self.prepare(.indexed, backend)
        let crashed = await harness.pipeline(faults: FaultInjector(rules: [.crashAt(8)])).ingest(reference)
        #expect(crashed.shouldRetry)
        #expect(try await harness.metadata.photo(crashed.photoID)?.status == .processing)

        let early = await harness.pipeline().ingest(reference)
        guard case .inProgressElsewhere(let lease) = early.outcome else {
            Issue.record("expected the photo to be held elsewhere, got \(early.outcome)")
            return
        }
        #expect(early.shouldRetry, "a photo in progress elsewhere is not done: a queue must deliver it again")
        #expect(lease.expiresAt == harness.clock.now().addingTimeInterval(900))
        await #expect(throws: GalleryError.photoBusy(crashed.photoID)) { try await harness.gallery.deletePhoto(crashed.photoID) }

        harness.clock.advance(by: .seconds(901))
        #expect(await harness.pipeline().ingest(reference).outcome == .indexed)
    }
}
