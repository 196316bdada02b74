import FaceClusterKit
import Foundation
import Testing

@Suite("Ingestion: idempotency")
struct IdempotencyTests {
    let alice = Identity(1), bob = Identity(2)

    @Test("the same event delivered 3 times changes nothing after the first", arguments: CallPlan.allCases, Backend.available)
    func redelivery(plan: CallPlan, backend: Backend) async throws {
        let harness = try await Harness.make(backend, callPlan: plan)
        let reference = try await harness.upload(Layout.photo([alice, bob]), as: "raw/party.jpg")
        let pipeline = harness.pipeline()

        let first = await pipeline.ingest(reference)
        let afterFirst = try await harness.snapshot()
        harness.counter.reset()
        let second = await pipeline.ingest(reference)
        let third = await pipeline.ingest(reference)

        #expect(first.outcome == .indexed)
        #expect(second.outcome == .skipped(.alreadyProcessed))
        #expect(third.outcome == .skipped(.alreadyProcessed))
        #expect(try await harness.snapshot() == afterFirst)
        #expect(harness.counter.count(ofPort: "FaceIndex") == 0, "a re-delivered event must not pay for face calls")
        #expect(harness.counter.count(of: "PhotoStore.get") == 0, "nor download the photo again")
    }

    @Test("three concurrent deliveries of one event: one worker processes, the others see it in progress", arguments: Backend.available)
    func concurrentRedelivery(backend: Backend) async throws {
        let harness = try await Harness.make(backend)
        let reference = try await harness.upload(Layout.photo([alice, bob]), as: "raw/party.jpg")
        let reports = await withTaskGroup(of: IngestionReport.self) { group in
            for seed in 0..<3 {
                let pipeline = harness.pipeline(faults: FaultInjector(seed: UInt64(seed), rules: [.jitter(upTo: .milliseconds(3))]))
                group.addTask { await pipeline.ingest(reference) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(reports.filter { $0.outcome == .indexed }.count == 1)
        #expect(reports.allSatisfy { report in
            if case .inProgressElsewhere = report.outcome { return true }
            return report.outcome == .indexed || report.outcome == .skipped(.alreadyProcessed)
        })
        let snapshot = try await harness.snapshot()
        #expect(snapshot.groups.count == 2)
        #expect(snapshot.indexedFaceCount == 2)
    }

    @Test("a photo overwritten with new content is reprocessed and its old faces removed", arguments: CallPlan.allCases, Backend.available)
    func overwrite(plan: CallPlan, backend: Backend) async throws {
        let harness = try await Harness.make(backend, callPlan: plan)
        try await harness.add(Layout.photo([alice]), as: "raw/alice.jpg")
        let first = try await harness.add(Layout.photo([alice, bob], variant: 1), as: "raw/party.jpg")
        let bobID = try #require(first.newPeople.first)

        let second = try await harness.add(Layout.photo([alice], variant: 2, note: "cropped"), as: "raw/party.jpg")

        #expect(second.photoID == first.photoID)
        #expect(second.outcome == .indexed)
        #expect(try await harness.metadata.person(bobID) == nil, "Bob was only in the old version")
        let snapshot = try await harness.snapshot()
        #expect(snapshot.groups.count == 1)
        #expect(snapshot.groups.first?.photoCount == 2)
        #expect(snapshot.thumbnailKeys == snapshot.storedThumbnails, "old thumbnails are deleted")
        if plan == .indexed { #expect(snapshot.indexedFaceCount == 2, "old faces left the index") }
    }

    @Test("a late event for older content does not undo newer content", arguments: Backend.available)
    func outOfOrder(backend: Backend) async throws {
        let harness = try await Harness.make(backend)
        let reference = try await harness.upload(Layout.photo([alice]), as: "raw/p.jpg")
        try await harness.upload(Layout.photo([bob]), as: "raw/p.jpg")
        let pipeline = harness.pipeline()
        // Both events arrive after the second upload; each reads the object as it is now.
        _ = await pipeline.ingest(reference)
        let late = await pipeline.ingest(reference)
        #expect(late.outcome == .skipped(.alreadyProcessed))
        #expect(try await harness.snapshot().groups.count == 1)
    }
}
