#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Amazon SQS over its JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Operation>`): sending messages in batches
/// (how the scheduled repair puts unfinished photos back on the ingestion queue), and receiving and deleting
/// them (tests, local runners). Every call is one request, retried under the client's policy; AWS errors come
/// back as ``AWSServiceError``.
public struct SQSClient: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) { self.client = client }

    /// The most messages one SendMessageBatch, ReceiveMessage or DeleteMessageBatch takes.
    public static let batchLimit = 10

    struct Entry: Codable { var Id: String; var MessageBody: String? = nil; var ReceiptHandle: String? = nil }
    struct BatchRequest: Encodable { var QueueUrl: String; var Entries: [Entry] }
    struct BatchResult: Decodable {
        struct Failure: Decodable { var Id: String; var Code: String?; var Message: String? }
        var Failed: [Failure]?
    }

    /// A message taken from a queue.
    public struct Message: Sendable, Hashable, Decodable {
        public var MessageId: String
        public var ReceiptHandle: String
        public var Body: String
        public var Attributes: [String: String]?
    }

    func call<Output: Decodable>(_ operation: String, _ input: some Encodable, as: Output.Type = Output.self) async throws -> Output {
        let response = try await client.send(
            service: "sqs", method: "POST", path: "/",
            headers: [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "AmazonSQS.\(operation)")],
            body: try JSONEncoder().encode(input))
        return try JSONDecoder().decode(Output.self, from: response.body.isEmpty ? Data("{}".utf8) : response.body)
    }

    /// Sends every body, ten a request. Throws ``SQSError/notSent(_:)`` naming the messages SQS refused.
    public func send(_ bodies: [String], to queueURL: String) async throws {
        var refused: [String] = []
        for start in stride(from: 0, to: bodies.count, by: Self.batchLimit) {
            let entries = bodies[start..<min(start + Self.batchLimit, bodies.count)].enumerated().map { offset, body in
                Entry(Id: "m\(start + offset)", MessageBody: body)
            }
            let result = try await call("SendMessageBatch", BatchRequest(QueueUrl: queueURL, Entries: entries), as: BatchResult.self)
            refused += (result.Failed ?? []).map { "\($0.Id): \($0.Code ?? "?") \($0.Message ?? "")" }
        }
        if !refused.isEmpty { throw SQSError.notSent(refused) }
    }

    /// Up to `limit` (≤ 10) messages, waiting up to `wait` for the first; each stays invisible to other
    /// receivers for `visibilityTimeout`, then comes back unless deleted. `ApproximateReceiveCount` is in
    /// ``Message/Attributes``.
    public func receive(from queueURL: String, limit: Int = 10, wait: Duration = .zero, visibilityTimeout: Duration? = nil) async throws -> [Message] {
        struct Request: Encodable {
            var QueueUrl: String
            var MaxNumberOfMessages: Int
            var WaitTimeSeconds: Int
            var VisibilityTimeout: Int?
            var MessageSystemAttributeNames = ["ApproximateReceiveCount"]
        }
        struct Response: Decodable { var Messages: [Message]? }
        let request = Request(
            QueueUrl: queueURL, MaxNumberOfMessages: min(max(limit, 1), Self.batchLimit), WaitTimeSeconds: Int(wait.components.seconds),
            VisibilityTimeout: visibilityTimeout.map { Int($0.components.seconds) })
        return try await call("ReceiveMessage", request, as: Response.self).Messages ?? []
    }

    /// Deletes received messages by their receipt handles, ten a request.
    public func delete(_ receiptHandles: [String], from queueURL: String) async throws {
        for start in stride(from: 0, to: receiptHandles.count, by: Self.batchLimit) {
            let entries = receiptHandles[start..<min(start + Self.batchLimit, receiptHandles.count)].enumerated().map { offset, handle in
                Entry(Id: "d\(start + offset)", ReceiptHandle: handle)
            }
            _ = try await call("DeleteMessageBatch", BatchRequest(QueueUrl: queueURL, Entries: entries), as: BatchResult.self)
        }
    }

    /// Creates a queue (or returns the URL of the existing one with that name).
    public func createQueue(named name: String, attributes: [String: String] = [:]) async throws -> String {
        struct Request: Encodable { var QueueName: String; var Attributes: [String: String]? }
        struct Response: Decodable { var QueueUrl: String }
        return try await call("CreateQueue", Request(QueueName: name, Attributes: attributes.isEmpty ? nil : attributes), as: Response.self).QueueUrl
    }
}

/// Failures of ``SQSClient`` beyond AWS's own errors.
public enum SQSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// SQS refused these messages of a batch (id: code message).
    case notSent([String])

    public var description: String {
        switch self {
        case .notSent(let messages): "SQS did not take \(messages.count) message(s): \(messages.joined(separator: "; "))"
        }
    }
}
