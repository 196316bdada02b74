import FaceClusterDoubles
@testable import FaceClusterKit
@testable import FaceClusterLambda
import Foundation
import Logging
import Testing

/// An ingestion invocation that dies mid-photo, then SQS delivering the message again: before the dead
/// invocation's lease ends the photo is not done, so the message fails (and comes back); after, the photo is
/// indexed — exactly once.
@Suite("Lambda ingestion: a crash mid-photo, then redelivery")
struct IngestRedeliveryTests {
    struct Stores {
        let clock = ManualWallClock(Date())
        let raw = InMemoryPhotoStore(location: "raw"), processed = InMemoryPhotoStore(location: "processed")
        let metadata = InMemoryMetadataStore(), index = InMemoryFaceIndex()
        let configuration: LambdaConfiguration

        init() throws {
            configuration = try LambdaConfiguration(environment: ["RAW_BUCKET": "raw", "PROCESSED_BUCKET": "processed", "TABLE_PREFIX": "t", "COLLECTION_ID": "c"])
        }

        /// The ingest handler; `faults` (when given) on every store and the index: `.crashAt(n)` is a process
        /// that died at its n-th call.
        func handler(faults: FaultInjector? = nil) -> IngestHandler {
            guard let faults else {
                return IngestHandler(
                    configuration: configuration, photos: raw, thumbnails: processed, detector: ScriptedFaceDetector(), index: index,
                    metadata: metadata, cropper: SyntheticThumbnailCropper(), clock: clock)
            }
            return IngestHandler(
                configuration: configuration, photos: raw.intercepted(by: faults), thumbnails: processed.intercepted(by: faults),
                detector: ScriptedFaceDetector(), index: index.intercepted(by: faults), metadata: metadata.intercepted(by: faults),
                cropper: SyntheticThumbnailCropper(), clock: clock)
        }

        func invocation(lasting seconds: Double) -> Invocation {
            Invocation(requestID: UUID().uuidString, deadline: clock.now().addingTimeInterval(seconds), invokedFunctionARN: nil, traceID: nil)
        }
    }

    static func failedMessages(_ response: Data) throws -> [String] {
        try JSONDecoder().decode(SQSBatchResponse.self, from: response).batchItemFailures.map(\.itemIdentifier)
    }

    @Test("the message fails while the dead invocation's lease lasts, then the photo is indexed exactly once", arguments: [6, 9, 12, 15])
    func crashThenRedelivery(crashAtCall call: Int) async throws {
        let stores = try Stores()
        let photo = SyntheticPhoto(width: 1200, height: 900, faces: [
            Identity(1).face(Layout.box(0)), Identity(2).face(Layout.box(1)),
        ])
        try await stores.raw.put(photo.encoded(), at: "uploads/party.jpg", contentType: "image/jpeg")
        let message = try LambdaStack.sqs([("m-1", try LambdaStack.json(["Records": [LambdaStack.s3Record(bucket: "raw", key: "uploads/party.jpg")]]))])
        let logger = Logger(label: "test")

        // 1. The function dies at call `call` (a timeout, out of memory…): nothing after it runs.
        let died = try await stores.handler(faults: FaultInjector(rules: [.crashAt(call)])).handle(message, invocation: stores.invocation(lasting: 120), logger: logger)
        #expect(try Self.failedMessages(died) == ["m-1"])
        let id = PhotoID(PhotoReference(store: "raw", key: "uploads/party.jpg"))
        let stuck = try #require(try await stores.metadata.photo(id))
        #expect(stuck.status == .processing, "the crash left the photo in progress")
        // Its lease ends with that invocation's deadline plus the margin, not 15 minutes later.
        #expect(try #require(stuck.lease).expiresAt == stores.clock.now().addingTimeInterval(130))

        // 2. Redelivered before the lease ends: not done, so not acknowledged.
        stores.clock.advance(by: .seconds(60))
        let early = try await stores.handler().handle(message, invocation: stores.invocation(lasting: 120), logger: logger)
        #expect(try Self.failedMessages(early) == ["m-1"], "a photo in progress elsewhere must come back, not be acknowledged")

        // 3. Redelivered after it (SQS's visibility timeout is 720 s): indexed.
        stores.clock.advance(by: .seconds(660))
        let late = try await stores.handler().handle(message, invocation: stores.invocation(lasting: 120), logger: logger)
        #expect(try Self.failedMessages(late).isEmpty)
        let done = try #require(try await stores.metadata.photo(id))
        #expect(done.status == .indexed)
        // Exactly once: two faces indexed, two appearances, two people, two thumbnails.
        #expect(await stores.index.faceCount == 2)
        #expect(try await stores.metadata.appearances(inPhoto: id).count == 2)
        #expect(try await Page.all { try await stores.metadata.people(page: $0) }.count == 2)
        #expect(try await stores.processed.list(prefix: "", continuationToken: nil, limit: 100).objects.count == 2)

        // 4. A later redelivery of the same message changes nothing and succeeds.
        let again = try await stores.handler().handle(message, invocation: stores.invocation(lasting: 120), logger: logger)
        #expect(try Self.failedMessages(again).isEmpty)
        #expect(await stores.index.faceCount == 2)
    }
}
