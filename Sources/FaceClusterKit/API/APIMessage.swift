#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One HTTP request to ``GalleryAPI``, whatever carried it: an API Gateway event (the Lambda) or a
/// connection to `facecluster serve` (Hummingbird). The adapters fill it in and turn ``APIResponse`` back
/// into their own shape; the routes, checks and answers are the same for both.
public struct APIRequest: Sendable {
    /// Upper-case method: `GET`, `POST`, …
    public var method: String
    /// The path below the API's base, percent-encoded as it arrived (`/people/p_…/photos`).
    public var path: String
    /// Query parameters, decoded; a repeated name keeps its last value.
    public var query: [String: String]
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: Data
    /// The id logs and 500s name (API Gateway's request id, or one the server made).
    public var requestID: String

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: Data = Data(), requestID: String) {
        self.method = method.uppercased()
        self.path = path
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        self.body = body
        self.requestID = requestID
    }

    /// The path's segments, percent-decoded (`/faces/a%20b` → `["faces", "a b"]`).
    public var segments: [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map { Self.percentDecoded($0) ?? String($0) }
    }

    /// Query parameters from a raw query string (`a=1&b=x%20y`; `+` is a space, as forms send it).
    public static func query(parsing raw: String) -> [String: String] {
        var query: [String: String] = [:]
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = String(text.map { $0 == "+" ? " " : $0 })
                return percentDecoded(spaced[...]) ?? spaced
            }
            query[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return query
    }

    /// `text` with its `%XX` escapes decoded as UTF-8; `nil` when an escape is malformed or the bytes are not
    /// UTF-8. (FoundationEssentials, all the Lambda links, has no `removingPercentEncoding`.)
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hex), let low = iterator.next().flatMap(hex) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// ``GalleryAPI``'s answer: a status, headers (lower-case names) and a body, JSON unless a header says otherwise.
public struct APIResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
