#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Someone whose face appears in one or more photos.
public struct Person: Hashable, Sendable, Codable {
    public var id: PersonID
    /// A name a user gave; `nil` until then.
    public var name: String?
    /// Distinct photos the person appears in (not faces: after a merge one photo can hold two of their faces).
    public var photoCount: Int
    /// Faces of the person across all photos.
    public var faceCount: Int
    /// The face shown for the person, and its thumbnail's key in the thumbnail store.
    public var coverFaceID: FaceID?
    public var coverThumbnailKey: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: PersonID, name: String? = nil, photoCount: Int = 0, faceCount: Int = 0, coverFaceID: FaceID? = nil,
        coverThumbnailKey: String? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.photoCount = photoCount
        self.faceCount = faceCount
        self.coverFaceID = coverFaceID
        self.coverThumbnailKey = coverThumbnailKey
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Deterministic order for choosing which of two duplicates survives a merge: the older person, then the
    /// smaller id. Every worker that compares the same two people picks the same one.
    public func precedes(_ other: Person) -> Bool {
        createdAt != other.createdAt ? createdAt < other.createdAt : id < other.id
    }
}
