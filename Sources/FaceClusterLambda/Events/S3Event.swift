import FaceClusterKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
            var bytes: [UInt8] = []
            var iterator = Array(key.utf8).makeIterator()
            while let byte = iterator.next() {
                switch byte {
                case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
                case UInt8(ascii: "%"):
                    guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else { return nil }
                    bytes.append(high << 4 | low)
                default: bytes.append(byte)
                }
            }
            return String(validating: bytes, as: UTF8.self)
        }

        /// `key` encoded as S3 encodes it in notifications (the inverse of ``decodedKey``): letters, digits and
        /// `-_.*/` stay, a space becomes `+`, every other byte `%XX`.
        static func encode(key: String) -> String {
            var encoded = ""
            for byte in key.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                     UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "*"), UInt8(ascii: "/"):
                    encoded.unicodeScalars.append(Unicode.Scalar(byte))
                case UInt8(ascii: " "): encoded += "+"
                default:
                    let digits = Array("0123456789ABCDEF".unicodeScalars)
                    encoded += "%" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
                }
            }
            return encoded
        }

        private static func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
    }

    var Records: [Record]

    /// S3's test message, sent once when a notification is configured: `{"Service":"Amazon S3","Event":"s3:TestEvent",…}`.
    struct TestEvent: Codable, Sendable {
        var Event: String
    }
}
