/// Where a photo's bytes live: a store (an S3 bucket, a folder), a key in it and, for versioned buckets,
/// the version. The ``PhotoID`` derives from it.
public struct PhotoReference: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The bucket name or folder identity of the ``PhotoStore`` (``PhotoStore/location``).
    public var store: String
    /// The object key; `/` separates folders.
    public var key: String
    /// The S3 version id when the bucket is versioned. Each version is then a photo of its own.
    public var versionID: String?

    public init(store: String, key: String, versionID: String? = nil) {
        self.store = store
        self.key = key
        self.versionID = versionID
    }

    public var description: String { versionID.map { "\(store)/\(key)?versionId=\($0)" } ?? "\(store)/\(key)" }

    /// How a person reads it: the path of a local file (store `/`, the key a path without its leading `/`),
    /// `store/key` otherwise.
    public var displayPath: String { store == "/" ? "/" + key : "\(store)/\(key)" }
}
