#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Object storage for photos and thumbnails: an S3 bucket, a folder, or memory.
///
/// Keys are UTF-8 strings with `/` separating folders. Every operation is one request to the backing store.
public protocol PhotoStore: Sendable {
    /// The bucket name or folder identity. Photo ids derive from it (``PhotoReference/store``).
    var location: String { get }

    /// The object's bytes and metadata. Throws ``PhotoStoreError/notFound(key:)`` when there is none.
    func get(_ key: String) async throws -> StoredObject

    /// Stores `data` at `key`, replacing what was there, and returns what the store recorded.
    @discardableResult
    func put(_ data: Data, at key: String, contentType: String) async throws -> ObjectInfo

    /// Metadata without the bytes. Throws ``PhotoStoreError/notFound(key:)`` when there is none.
    func head(_ key: String) async throws -> ObjectInfo

    /// Removes the object. Succeeds when there is nothing to remove (deletes are retried after crashes).
    func delete(_ key: String) async throws

    /// Objects whose key starts with `prefix`, in key order, at most `limit` per page; pass the returned
    /// ``ObjectListing/continuationToken`` to read on.
    func list(prefix: String, continuationToken: String?, limit: Int) async throws -> ObjectListing

    /// A URL that lets anyone holding it GET the object until it expires. `expiresIn` must be between
    /// 1 second and 7 days (S3's limit); otherwise ``PhotoStoreError/invalidExpiry(_:)``. No request is made.
    func presignedURL(for key: String, expiresIn: Duration) async throws -> URL
}

/// What a store knows about an object.
public struct ObjectInfo: Hashable, Sendable {
    public var key: String
    public var size: Int
    /// Changes whenever the content changes (S3's ETag; a content hash elsewhere).
    public var eTag: String
    public var contentType: String?
    public var lastModified: Date?
    public var versionID: String?

    public init(
        key: String, size: Int, eTag: String, contentType: String? = nil, lastModified: Date? = nil,
        versionID: String? = nil
    ) {
        self.key = key
        self.size = size
        self.eTag = eTag
        self.contentType = contentType
        self.lastModified = lastModified
        self.versionID = versionID
    }
}

/// An object's bytes with its metadata.
public struct StoredObject: Sendable {
    public var info: ObjectInfo
    public var data: Data

    public init(info: ObjectInfo, data: Data) {
        self.info = info
        self.data = data
    }
}

/// One page of ``PhotoStore/list(prefix:continuationToken:limit:)``.
public struct ObjectListing: Sendable {
    public var objects: [ObjectInfo]
    public var continuationToken: String?

    public init(objects: [ObjectInfo], continuationToken: String?) {
        self.objects = objects
        self.continuationToken = continuationToken
    }
}

/// Failures a ``PhotoStore`` reports in terms its callers can act on.
public enum PhotoStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    case notFound(key: String)
    case invalidKey(String, reason: String)
    case invalidExpiry(Duration)
    case invalidContinuationToken
    case accessDenied(key: String, detail: String)
    /// The store could not be reached or answered with a server error; retrying may help.
    case unavailable(detail: String)

    /// The longest validity S3 accepts for a presigned URL.
    public static let maximumPresignedExpiry: Duration = .seconds(7 * 24 * 3600)

    /// Throws ``invalidKey(_:reason:)`` unless `key` follows S3's rule: 1…1024 bytes of UTF-8.
    public static func validate(key: String) throws {
        guard !key.isEmpty, key.utf8.count <= 1024 else { throw PhotoStoreError.invalidKey(key, reason: "keys are 1 to 1024 bytes") }
    }

    /// Throws ``invalidExpiry(_:)`` unless `expiry` is within 1 s … 7 days.
    public static func validate(expiry: Duration) throws {
        guard expiry >= .seconds(1), expiry <= maximumPresignedExpiry else { throw PhotoStoreError.invalidExpiry(expiry) }
    }

    public var description: String {
        switch self {
        case .notFound(let key): "no object at '\(key)'"
        case .invalidKey(let key, let reason): "invalid key '\(key)': \(reason)"
        case .invalidExpiry(let expiry): "presigned URL expiry \(expiry) is outside 1 second … 7 days"
        case .invalidContinuationToken: "the continuation token is not one this store issued"
        case .accessDenied(let key, let detail): "access denied to '\(key)': \(detail)"
        case .unavailable(let detail): "photo store unavailable: \(detail)"
        }
    }
}
