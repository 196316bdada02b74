import FaceClusterKit
import Foundation
import Testing

@Suite("Ingestion: bad input")
struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var data: Data
        var code: FailureCode
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "random bytes", data: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }), code: .notAnImage),
        Case(name: "empty file", data: Data(), code: .notAnImage),
        Case(name: "text file", data: Data("holiday notes\n".utf8), code: .notAnImage),
        Case(name: "truncated photo", data: Layout.photo([Identity(1)]).encoded().prefix(40), code: .corruptImage),
        Case(name: "image under 80 px", data: SyntheticPhoto(width: 64, height: 64).encoded(), code: .imageTooSmall),
        Case(name: "decompression bomb", data: SyntheticPhoto(width: 40_000, height: 30_000).encoded(), code: .imageTooLarge),
    ]

    @Test("a photo file over the size limit is refused from its size, before it is read")
    func fileTooLarge() async throws {
        let photo = Layout.photo([Identity(1)]).encoded()
        var harness = Harness()
        harness.configuration.maximumPhotoBytes = photo.count - 1
        let reference = try await harness.upload(photo, as: "raw/appended.jpg")
        harness.counter.reset()
        let report = await harness.pipeline().ingest(reference)
        guard case .failed(let failure) = report.outcome else { Issue.record("got \(report.outcome)"); return }
        #expect(failure.code == .imageTooLarge && !failure.retryable && failure.message.contains("the limit is"), "\(failure)")
        #expect(harness.counter.count(of: "PhotoStore.get") == 0)
    }

    @Test("bad input fails with a typed, permanent, recorded status", arguments: cases)
    func badInput(_ input: Case) async throws {
        let harness = Harness()
        let reference = try await harness.upload(input.data, as: "raw/\(input.name).jpg")
        let report = await harness.pipeline().ingest(reference)

        let expected = PhotoFailure(code: input.code, message: "", retryable: false)
        guard case .failed(let failure) = report.outcome else { Issue.record("got \(report.outcome)"); return }
        #expect(failure.code == expected.code)
        #expect(!failure.retryable)
        #expect(!failure.message.isEmpty)
        #expect(try await harness.metadata.photo(report.photoID)?.status == .failed(failure))
        // A re-delivery of the same bad content does not pay again.
        harness.counter.reset()
        #expect(await harness.pipeline().ingest(reference).outcome == .skipped(.alreadyProcessed))
        #expect(harness.counter.count(of: "PhotoStore.get") == 0)
    }

    @Test("an event for an object that no longer exists is recorded, not lost")
    func missingObject() async throws {
        let harness = Harness()
        let report = await harness.pipeline().ingest(PhotoReference(store: "raw-bucket", key: "raw/gone.jpg"))
        guard case .failed(let failure) = report.outcome else { Issue.record("got \(report.outcome)"); return }
        #expect(failure.code == .objectNotFound)
        #expect(try await harness.metadata.photo(report.photoID)?.status.kind == .failed)
    }

    @Test("bad photos in a batch fail alone; the others are grouped")
    func batchContinues() async throws {
        let harness = Harness()
        let references = [
            try await harness.upload(Layout.photo([Identity(1)]), as: "raw/good-1.jpg"),
            try await harness.upload(Data("not a photo".utf8), as: "raw/notes.txt"),
            try await harness.upload(Layout.photo([Identity(1), Identity(2)]).encoded().prefix(30), as: "raw/cut.jpg"),
            try await harness.upload(Layout.photo([Identity(1), Identity(2)], variant: 1), as: "raw/good-2.jpg"),
        ]
        let reports = await harness.pipeline().ingest(references, maxConcurrency: 2)
        #expect(reports.map(\.outcome.isFailure) == [false, true, true, false])
        #expect(try await harness.gallery.people().items.map(\.photoCount) == [2, 1])
    }

    @Test("a bad photo replaced by a good one is processed")
    func replacedBadPhoto() async throws {
        let harness = Harness()
        let reference = try await harness.upload(Data("oops".utf8), as: "raw/p.jpg")
        #expect(await harness.pipeline().ingest(reference).outcome.isFailure)
        try await harness.upload(Layout.photo([Identity(1)]), as: "raw/p.jpg")
        #expect(await harness.pipeline().ingest(reference).outcome == .indexed)
    }

    @Test("a face service outage is recorded as retryable, and a retry succeeds")
    func outage() async throws {
        let harness = Harness()
        let reference = try await harness.upload(Layout.photo([Identity(1)]), as: "raw/p.jpg")
        let throttled = FaultInjector(rules: [.failOperation("FaceIndex.searchFaces(matching:)", times: 1)])
        let report = await harness.pipeline(faults: throttled).ingest(reference)
        #expect(report.shouldRetry)
        #expect(await harness.pipeline().ingest(reference).outcome == .indexed)
        #expect(await harness.indexedFaceCount() == 1)
    }
}

extension IngestionReport.Outcome {
    var isFailure: Bool {
        if case .failed = self { return true }
        return false
    }
}
