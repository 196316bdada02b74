#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One face of one person in one photo. Keyed by its face: the appearance **is** the face → person mapping.
public struct Appearance: Hashable, Sendable, Codable {
    public var faceID: FaceID
    public var personID: PersonID
    public var photoID: PhotoID
    public var boundingBox: BoundingBox
    /// Key of the face thumbnail in the thumbnail store (`people/<personId>/<faceId>.jpg` at ingestion; the
    /// key is kept when people are merged).
    public var thumbnailKey: String
    /// Detection confidence, 0…100.
    public var confidence: Double
    /// The face this one was matched to and the similarity (0…100); both `nil` when this face founded its person.
    public var matchedFaceID: FaceID?
    public var similarity: Double?
    /// The photo's ``Photo/addedAt``, copied so a person's photos sort newest first without a join.
    public var photoAddedAt: Date

    public init(
        faceID: FaceID, personID: PersonID, photoID: PhotoID, boundingBox: BoundingBox, thumbnailKey: String,
        confidence: Double, matchedFaceID: FaceID? = nil, similarity: Double? = nil, photoAddedAt: Date
    ) {
        self.faceID = faceID
        self.personID = personID
        self.photoID = photoID
        self.boundingBox = boundingBox
        self.thumbnailKey = thumbnailKey
        self.confidence = confidence
        self.matchedFaceID = matchedFaceID
        self.similarity = similarity
        self.photoAddedAt = photoAddedAt
    }

    /// Whether this face started its person (it matched nobody when it was grouped).
    public var foundedPerson: Bool { matchedFaceID == nil }
}
