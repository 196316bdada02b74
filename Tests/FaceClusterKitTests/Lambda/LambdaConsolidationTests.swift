import FaceClusterDoubles
@testable import FaceClusterKit
@testable import FaceClusterLambda
import Foundation
import Logging
import Testing

/// The ingest function consolidates what each batch touched, from the face graph in the metadata store.
@Suite("Lambda ingestion: consolidation after each batch")
struct LambdaConsolidationTests {
    @Test("a person split by arrival order within a batch is one person when the batch is answered; CONSOLIDATE=off leaves it")
    func batchConsolidates() async throws {
        for consolidate in [true, false] {
            let stores = try IngestRedeliveryTests.Stores()
            // Faces at 0°, 26° and 13°: the first two are 89.9 similar (not enough alone), the third joins either.
            var keys: [String] = []
            for (key, angle) in [("a", 0.0), ("b", 26.0), ("c", 13.0)] {
                try await stores.raw.put(ConsolidationTests.photo([angle]).encoded(), at: "uploads/\(key).jpg", contentType: "image/jpeg")
                keys.append("uploads/\(key).jpg")
            }
            var handler = stores.handler()
            handler.configuration.consolidatesAfterBatch = consolidate
            handler.maxConcurrency = 1
            // One message a photo, in an order that founds two people before the third face arrives.
            let messages = try keys.map { key in ("m-\(key)", try LambdaStack.json(["Records": [LambdaStack.s3Record(bucket: "raw", key: key)]])) }
            let response = try await handler.handle(try LambdaStack.sqs(messages), invocation: stores.invocation(lasting: 60), logger: Logger(label: "t"))
            #expect(try IngestRedeliveryTests.failedMessages(response).isEmpty)
            let people = try await Page.all { try await stores.metadata.people(page: $0) }
            if consolidate {
                #expect(people.map(\.photoCount) == [3], "\(people.map(\.photoCount))")
                let operation = try #require(try await stores.metadata.operations(page: PageRequest(limit: 1)).items.first)
                #expect(operation.automatic && operation.kind == .consolidation && operation.state == .applied)
            } else {
                #expect(people.count == 2)
            }
        }
    }
}
