import Crypto
import FaceClusterKit
import Foundation

/// Short-lived, HMAC-SHA256-signed URLs to a local store's files, served by `facecluster serve` at
/// `/files/<store>/<key>?expires=<unix seconds>&signature=<hex>`: the local twin of S3 presigned URLs, so an
/// `<img>` loads a photo or thumbnail without headers, and nothing unsigned (or signed for another key or
/// moment) is read. The key lives in the process: URLs die with the server, as they would after their expiry.
public struct URLSigner: Sendable {
    private let key: SymmetricKey

    public init(key: SymmetricKey = SymmetricKey(size: .bits256)) {
        self.key = key
    }

    /// The path and query of a URL to `key` in `store`, valid until `expires`. Key segments are percent-encoded.
    public func path(store: String, key objectKey: String, expires: Date) -> String {
        let seconds = Int(expires.timeIntervalSince1970.rounded(.up))
        let encoded = objectKey.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? "" }.joined(separator: "/")
        return "/files/\(store)/\(encoded)?expires=\(seconds)&signature=\(signature(store: store, key: objectKey, expires: seconds))"
    }

    /// Whether `signature` is this signer's for `key` in `store` until `expires`, and `expires` has not passed.
    /// Compared in constant time.
    public func verify(store: String, key objectKey: String, expires: Int, signature given: String, now: Date = Date()) -> Bool {
        guard Double(expires) >= now.timeIntervalSince1970 else { return false }
        return Self.constantTimeEqual(signature(store: store, key: objectKey, expires: expires), given)
    }

    /// Whether two secrets are equal, in a time that depends on their lengths only.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private func signature(store: String, key objectKey: String, expires: Int) -> String {
        let message = Array("\(store)\u{0}\(objectKey)\u{0}\(expires)".utf8)
        return HMAC<SHA256>.authenticationCode(for: message, using: key).hexString
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

/// A ``PhotoStore`` whose presigned URLs are ``URLSigner``'s (relative: `/files/<name>/…`, resolved against
/// the server the client talks to); everything else is the wrapped store's.
public struct SignedURLPhotoStore: PhotoStore {
    public let base: any PhotoStore
    /// The store's name in URLs (`photos`, `thumbnails`).
    public let name: String
    public let signer: URLSigner

    public init(_ base: any PhotoStore, name: String, signer: URLSigner) {
        self.base = base
        self.name = name
        self.signer = signer
    }

    public var location: String { base.location }
    public func get(_ key: String) async throws -> StoredObject { try await base.get(key) }
    public func put(_ data: Data, at key: String, contentType: String) async throws -> ObjectInfo { try await base.put(data, at: key, contentType: contentType) }
    public func head(_ key: String) async throws -> ObjectInfo { try await base.head(key) }
    public func delete(_ key: String) async throws { try await base.delete(key) }
    public func list(prefix: String, continuationToken: String?, limit: Int) async throws -> ObjectListing {
        try await base.list(prefix: prefix, continuationToken: continuationToken, limit: limit)
    }

    public func presignedURL(for key: String, expiresIn: Duration) async throws -> URL {
        try PhotoStoreError.validate(key: key)
        try PhotoStoreError.validate(expiry: expiresIn)
        let expires = Date().addingTimeInterval(Double(expiresIn.components.seconds))
        guard let url = URL(string: signer.path(store: name, key: key, expires: expires)) else {
            throw PhotoStoreError.invalidKey(key, reason: "not representable in a URL")
        }
        return url
    }
}
