/// A batch of SQS messages delivered to Lambda; with S3 → SQS each body is an S3 event notification.
struct SQSEvent: Codable, Sendable {
    struct Message: Codable, Sendable {
        var messageId: String
        var body: String
        var eventSource: String?
        var eventSourceARN: String?
        var attributes: [String: String]?
    }

    var Records: [Message]
}

/// The partial-batch answer (`ReportBatchItemFailures` on the event source mapping): only the listed
/// messages return to the queue; an empty list means every message succeeded.
struct SQSBatchResponse: Codable, Sendable, Equatable {
    struct ItemFailure: Codable, Sendable, Equatable {
        var itemIdentifier: String
    }

    var batchItemFailures: [ItemFailure]
}
