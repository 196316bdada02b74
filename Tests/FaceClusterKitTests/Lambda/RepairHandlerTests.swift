import FaceClusterDoubles
@testable import FaceClusterKit
@testable import FaceClusterLambda
import Foundation
import Logging
import Testing

/// The scheduled repair function on moto (DynamoDB, S3, SQS): a photo an invocation left unfinished goes back
/// on the ingestion queue as an S3 notification, and the ingest function then indexes it.
@Suite("Lambda repair: unfinished photos back on the queue", .enabled(if: Moto.available, "needs moto_server: run scripts/test.sh"))
struct RepairHandlerTests {
    @Test("a photo stuck past its lease is re-queued; the ingest function takes the message and indexes it")
    func requeueStuckPhoto() async throws {
        let stack = try await LambdaStack.onAWSPeers()
        let key = "uploads/Trip 2024/party+1.jpg"   // a key S3 must escape in its notifications
        let photo = SyntheticPhoto(width: 1200, height: 900, faces: [Identity(1).face(Layout.box(0)), Identity(2).face(Layout.box(1))])
        try await stack.raw.put(photo.encoded(), at: key, contentType: "image/jpeg")

        // An ingest invocation that died mid-photo, long ago: the photo is `processing` under an expired lease.
        let clock = ManualWallClock(Date().addingTimeInterval(-3600))
        let dying = stack.ingest.pipeline(clock: clock, faults: FaultInjector(rules: [.crashAt(9)]))
        let reference = PhotoReference(store: stack.raw.location, key: key)
        #expect(await dying.ingest(reference).shouldRetry)
        #expect(try await stack.ingest.metadata.photo(PhotoID(reference))?.status == .processing)

        let sqs = SQSClient(client: AWSClient(
            configuration: AWSConfiguration(region: "us-east-1", endpoints: ["sqs": Moto.authURL!]),
            credentials: StaticCredentialProvider(Moto.authCredentials!), transport: AsyncHTTPClientTransport()))
        let queue = try await sqs.createQueue(named: "fck-ingest-\(UUID().uuidString.prefix(8))")
        let repair = RepairHandler(configuration: stack.configuration, queueURL: queue, pipeline: stack.ingest.pipeline(), sqs: sqs)
        let logger = Logger(label: "test")
        let scheduled = try LambdaEventTests.fixture("example-eventbridge-schedule.json")
        let answer = try JSONSerialization.jsonObject(with: try await repair.handle(scheduled, invocation: LambdaStack.invocation, logger: logger)) as? [String: Any]
        #expect(answer?["requeued"] as? Int == 1, "\(answer ?? [:])")
        #expect(try await stack.ingest.metadata.photo(PhotoID(reference))?.status == .pending)

        let messages = try await sqs.receive(from: queue, limit: 10, wait: .seconds(1))
        try #require(messages.count == 1)
        let batch = try LambdaStack.sqs([(messages[0].MessageId, messages[0].Body)])
        let response = try await stack.ingest.handle(batch, invocation: LambdaStack.invocation, logger: logger)
        #expect(try JSONDecoder().decode(SQSBatchResponse.self, from: response).batchItemFailures.isEmpty)
        #expect(try await stack.ingest.metadata.photo(PhotoID(reference))?.status == .indexed)
        #expect(try await stack.ingest.metadata.appearances(inPhoto: PhotoID(reference)).count == 2)

        // Nothing left: the next scheduled run sends nothing.
        let next = try JSONSerialization.jsonObject(with: try await repair.handle(scheduled, invocation: LambdaStack.invocation, logger: logger)) as? [String: Any]
        #expect(next?["requeued"] as? Int == 0)
    }

    @Test("S3's key encoding in notifications round-trips", arguments: ["uploads/a b+c.jpg", "uploads/é/ü%20.jpg", "uploads/plain.jpg"])
    func keyEncoding(_ key: String) {
        #expect(S3Event.Object(key: S3Event.Object.encode(key: key)).decodedKey == key)
    }
}

extension IngestHandler {
    /// A pipeline on the handler's stores, with `faults` on every store (not the index).
    func pipeline(clock: any WallClock = SystemWallClock(), faults: FaultInjector = FaultInjector(rules: [])) -> IngestionPipeline {
        func wrap<S: PhotoStore>(_ store: S) -> any PhotoStore { store.intercepted(by: faults) }
        func wrapMetadata<M: MetadataStore>(_ store: M) -> any MetadataStore { store.intercepted(by: faults) }
        return IngestionPipeline(
            photos: wrap(photos), thumbnails: wrap(thumbnails), detector: detector, index: index,
            metadata: wrapMetadata(metadata), cropper: cropper, clock: clock, configuration: .init(callPlan: configuration.callPlan))
    }
}
