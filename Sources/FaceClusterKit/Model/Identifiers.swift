#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// An identifier that is a string: encodes as a plain JSON string, orders and prints as its raw value.
public protocol StringIdentifier: RawRepresentable<String>, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    init(rawValue: String)
}

extension StringIdentifier {
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Identifies a photo. Derived from where the photo lives (store, key and, when present, version), so every
/// worker that receives the same S3 event computes the same id without coordinating: a re-delivered event
/// addresses the same record. Format: `ph_` followed by 26 base32 characters (130 bits of SHA-256).
public struct PhotoID: StringIdentifier {
    public let rawValue: String

    /// Wraps an id read back from storage or from a client. Use ``init(validating:)`` at trust boundaries.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Parses an id from untrusted input (an API path, a CLI argument); `nil` when it is not a photo id.
    public init?(validating text: String) {
        guard Self.isWellFormed(text, prefix: "ph_") else { return nil }
        self.rawValue = text
    }

    /// The id of the photo stored at `reference`. Pure and deterministic.
    public init(_ reference: PhotoReference) {
        var material = reference.store + "\u{0}" + reference.key
        if let version = reference.versionID { material += "\u{0}" + version }
        self.rawValue = "ph_" + Base32.digest(of: material, characters: 26)
    }

    static func isWellFormed(_ text: String, prefix: String) -> Bool {
        guard text.hasPrefix(prefix), text.utf8.count <= 64 else { return false }
        let body = text.utf8.dropFirst(prefix.utf8.count)
        return !body.isEmpty && body.allSatisfy(Base32.isDigit)
    }
}

/// Identifies a person. Readable (`p_…`), and derived from the face that founded the person, so a retry
/// that founds the person again after a crash produces the same id instead of a duplicate.
public struct PersonID: StringIdentifier {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// Parses an id from untrusted input; `nil` when it is not a person id.
    public init?(validating text: String) {
        guard PhotoID.isWellFormed(text, prefix: "p_") else { return nil }
        self.rawValue = text
    }

    /// The id of the person founded by `face`. Face ids are unique in their collection, so person ids are too.
    public static func founded(by face: FaceID) -> PersonID {
        PersonID(rawValue: "p_" + Base32.digest(of: "person\u{0}" + face.rawValue, characters: 26))
    }
}

/// Identifies one face in the face index. Assigned by the ``FaceIndex`` (a Rekognition FaceId is a UUID),
/// or derived from the photo for faces the seed call plan never indexes.
public struct FaceID: StringIdentifier {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// A fresh random id in the lower-case UUID form Rekognition uses.
    public static func random() -> FaceID { FaceID(rawValue: UUID().uuidString.lowercased()) }
}

/// Lower-case RFC 4648 base32 without padding: readable, case-insensitive-safe ids.
enum Base32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    static func isDigit(_ byte: UInt8) -> Bool { (0x61...0x7a).contains(byte) || (0x32...0x37).contains(byte) }

    /// The first `characters` base32 digits of SHA-256(`text`).
    static func digest(of text: String, characters: Int) -> String {
        encode(Array(SHA256.hash(data: Array(text.utf8))), characters: characters)
    }

    static func encode(_ bytes: [UInt8], characters: Int) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(characters)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes where output.count < characters {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 && output.count < characters {
                bits -= 5
                output.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
