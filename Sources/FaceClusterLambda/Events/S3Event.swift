import FaceClusterKit
import Foundation

/// An S3 event notification (the `Records` S3 sends to Lambda directly, or inside an SQS message body).
/// Only the members the ingestion handler reads; unknown members are ignored.
struct S3Event: Codable, Sendable {
    struct Record: Codable, Sendable {
        var eventSource: String?
        var eventName: String?
        var awsRegion: String?
        var s3: S3Entity
    }

    struct S3Entity: Codable, Sendable {
        var bucket: Bucket
        var object: Object
    }

    struct Bucket: Codable, Sendable {
        var name: String
        var arn: String?
    }

    struct Object: Codable, Sendable {
        /// URL-encoded the way HTML forms are: `+` is a space (see ``decodedKey``).
        var key: String
        var size: Int?
        var eTag: String?
        var versionId: String?
        var sequencer: String?

        /// The object key as stored: `+` → space, then percent-decoding (S3 sends `my+photo%2B1.jpg` for
        /// `my photo+1.jpg`). `nil` when the escapes are malformed.
        var decodedKey: String? {
            key.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
    }

    var Records: [Record]

    /// S3's test message, sent once when a notification is configured: `{"Service":"Amazon S3","Event":"s3:TestEvent",…}`.
    struct TestEvent: Codable, Sendable {
        var Event: String
    }
}
