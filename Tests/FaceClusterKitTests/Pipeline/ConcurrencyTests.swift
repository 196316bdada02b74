import FaceClusterKit
import Foundation
import Testing

@Suite("Ingestion: concurrency")
struct ConcurrencyTests {
    @Test("8 concurrent workers ingesting photos of the same new person end with one person", arguments: CallPlan.allCases, 0..<12)
    func eightWorkersOnePerson(plan: CallPlan, seed: Int) async throws {
        let harness = Harness(callPlan: plan)
        var references: [PhotoReference] = []
        for n in 0..<8 {
            references.append(try await harness.upload(Layout.photo([Identity(7)], variant: n), as: "raw/\(n).jpg"))
        }
        await withTaskGroup(of: Void.self) { group in
            for (n, reference) in references.enumerated() {
                let faults = FaultInjector(seed: UInt64(seed * 8 + n), rules: [.jitter(upTo: .milliseconds(4))])
                let pipeline = harness.pipeline(faults: faults)
                group.addTask { _ = await pipeline.ingest(reference) }
            }
        }
        let people = try await harness.gallery.people().items
        #expect(people.count == 1, "\(plan) seed \(seed): \(people.map { "\($0.id) ×\($0.photoCount)" })")
        #expect(people.first?.photoCount == 8)
        #expect(people.first?.faceCount == 8)
        // The survivor is deterministic: the person created first (then the smallest id).
        let appearances = try await harness.metadata.appearances(ofPerson: try #require(people.first).id, page: PageRequest(limit: 100)).items
        #expect(appearances.count == 8)
    }

    @Test("concurrent photos of two new people together end with exactly two people", arguments: CallPlan.allCases, 0..<6)
    func twoPeopleTogether(plan: CallPlan, seed: Int) async throws {
        let harness = Harness(callPlan: plan)
        let references = try await (0..<8).asyncMap { n in
            try await harness.upload(Layout.photo([Identity(1), Identity(2)], variant: n), as: "raw/\(n).jpg")
        }
        await withTaskGroup(of: Void.self) { group in
            for (n, reference) in references.enumerated() {
                let pipeline = harness.pipeline(faults: FaultInjector(seed: UInt64(seed * 8 + n), rules: [.jitter(upTo: .milliseconds(4))]))
                group.addTask { _ = await pipeline.ingest(reference) }
            }
        }
        let people = try await harness.gallery.people().items
        #expect(people.map(\.photoCount) == [8, 8], "\(plan) seed \(seed)")
    }

    @Test("concurrent photos of different people are never merged")
    func strangersStayApart() async throws {
        let harness = Harness()
        let references = try await (0..<8).asyncMap { n in
            try await harness.upload(Layout.photo([Identity(10 + n)]), as: "raw/\(n).jpg")
        }
        let reports = await harness.pipeline().ingest(references, maxConcurrency: 8)
        #expect(reports.map(\.photoID) == references.map(PhotoID.init), "reports come back in input order")
        #expect(try await harness.gallery.people().items.count == 8)
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
