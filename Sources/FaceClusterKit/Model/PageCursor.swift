#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An opaque continuation token. Clients pass it back unchanged; it encodes the position in one listing and
/// the listing it belongs to, so a cursor from one query is rejected by another
/// (``MetadataStoreError/invalidCursor``) rather than reading outside it.
public struct PageCursor: Hashable, Sendable, Codable, CustomStringConvertible, RawRepresentable {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// A cursor for `query` positioned after the item whose sort key is `position`. For store implementations.
    public init(query: String, position: [String]) {
        let payload = Payload(query: query, position: position)
        let json = (try? JSONEncoder().encode(payload)) ?? Data()
        rawValue = Self.base64URL(json)
    }

    /// The position this cursor holds, if it was issued for `query`; throws ``MetadataStoreError/invalidCursor``
    /// for anything else (tampered, truncated, or from another listing).
    public func position(for query: String) throws -> [String] {
        guard rawValue.utf8.count <= 2048,
              let data = Self.data(base64URL: rawValue),
              let payload = try? JSONDecoder().decode(Payload.self, from: data),
              payload.query == query
        else { throw MetadataStoreError.invalidCursor }
        return payload.position
    }

    private struct Payload: Codable {
        var query: String
        var position: [String]
        enum CodingKeys: String, CodingKey { case query = "q", position = "p" }
    }

    private static func base64URL(_ data: Data) -> String {
        String(data.base64EncodedString().compactMap { character -> Character? in
            switch character {
            case "+": "-"
            case "/": "_"
            case "=": nil
            default: character
            }
        })
    }

    private static func data(base64URL text: String) -> Data? {
        var base64 = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
