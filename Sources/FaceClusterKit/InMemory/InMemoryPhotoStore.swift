#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// A ``PhotoStore`` in memory, for tests and demos. ETags are the MD5 of the content, as S3's are for
/// single-part uploads; presigned URLs use the `memory:` scheme and are not fetchable.
public actor InMemoryPhotoStore: PhotoStore {
    public nonisolated let location: String
    private var objects: [String: StoredObject] = [:]
    private let clock: any WallClock

    public init(location: String = "memory", clock: any WallClock = SystemWallClock()) {
        self.location = location
        self.clock = clock
    }

    public func get(_ key: String) throws -> StoredObject {
        guard let object = objects[key] else { throw PhotoStoreError.notFound(key: key) }
        return object
    }

    @discardableResult
    public func put(_ data: Data, at key: String, contentType: String) throws -> ObjectInfo {
        try PhotoStoreError.validate(key: key)
        let eTag = Insecure.MD5.hash(data: data).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        let info = ObjectInfo(
            key: key, size: data.count, eTag: "\"\(eTag)\"", contentType: contentType, lastModified: clock.now())
        objects[key] = StoredObject(info: info, data: data)
        return info
    }

    public func head(_ key: String) throws -> ObjectInfo { try get(key).info }

    public func delete(_ key: String) { objects[key] = nil }

    public func list(prefix: String, continuationToken: String?, limit: Int) throws -> ObjectListing {
        let after = try continuationToken.map { token in
            guard token.hasPrefix("after:") else { throw PhotoStoreError.invalidContinuationToken }
            return String(token.dropFirst("after:".count))
        }
        let keys = objects.keys.filter { key in key.hasPrefix(prefix) && (after.map { key > $0 } ?? true) }.sorted()
        let page = keys.prefix(max(limit, 1))
        let next = page.count < keys.count ? page.last.map { "after:" + $0 } : nil
        return ObjectListing(objects: page.map { objects[$0]!.info }, continuationToken: next)
    }

    public nonisolated func presignedURL(for key: String, expiresIn: Duration) throws -> URL {
        try PhotoStoreError.validate(expiry: expiresIn)
        try PhotoStoreError.validate(key: key)
        let expires = Int(clock.now().timeIntervalSince1970) + Int(expiresIn.components.seconds)
        var components = URLComponents()
        components.scheme = "memory"
        components.host = location
        components.path = "/" + key
        components.queryItems = [URLQueryItem(name: "expires", value: String(expires))]
        guard let url = components.url else { throw PhotoStoreError.invalidKey(key, reason: "not representable in a URL") }
        return url
    }
}
