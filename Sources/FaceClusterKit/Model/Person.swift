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
    /// A user vouched for this person — named them, merged into them, moved a face to them, or made them a
    /// person from an unassigned face. Consolidation keeps a pinned person's faces together, never merges two
    /// pinned people on its own, and lists them whatever their number of faces.
    public var pinned: Bool

    public init(
        id: PersonID, name: String? = nil, photoCount: Int = 0, faceCount: Int = 0, coverFaceID: FaceID? = nil,
        coverThumbnailKey: String? = nil, createdAt: Date, updatedAt: Date, pinned: Bool = false
    ) {
        self.id = id
        self.name = name
        self.photoCount = photoCount
        self.faceCount = faceCount
        self.coverFaceID = coverFaceID
        self.coverThumbnailKey = coverThumbnailKey
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.pinned = pinned
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, photoCount, faceCount, coverFaceID, coverThumbnailKey, createdAt, updatedAt, pinned
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(PersonID.self, forKey: .id)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        photoCount = try container.decode(Int.self, forKey: .photoCount)
        faceCount = try container.decode(Int.self, forKey: .faceCount)
        coverFaceID = try container.decodeIfPresent(FaceID.self, forKey: .coverFaceID)
        coverThumbnailKey = try container.decodeIfPresent(String.self, forKey: .coverThumbnailKey)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        updatedAt = try container.decode(Date.self, forKey: .updatedAt)
        // Records written before pins existed.
        pinned = try container.decodeIfPresent(Bool.self, forKey: .pinned) ?? false
    }

    /// Whether a user vouched for this person (named or pinned): consolidation keeps their faces together.
    public var isConfirmed: Bool { pinned || name != nil }

    /// Deterministic order for choosing which of two duplicates survives a merge: the older person, then the
    /// smaller id. Every worker that compares the same two people picks the same one.
    public func precedes(_ other: Person) -> Bool {
        createdAt != other.createdAt ? createdAt < other.createdAt : id < other.id
    }
}
