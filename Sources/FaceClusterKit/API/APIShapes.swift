#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// MARK: Shapes (Docs/openapi.yaml)

struct PersonOutput: Codable {
    var id: String
    var name: String?
    var photoCount: Int
    var faceCount: Int
    var coverThumbnailUrl: String?
    var createdAt: Date
    var updatedAt: Date
    /// A group too small to be listed among the people (``Gallery/isListed(_:)``): its faces are unassigned.
    var unassigned: Bool = false

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(unassigned, forKey: .unassigned)
        try container.encode(name, forKey: .name)
        try container.encode(photoCount, forKey: .photoCount)
        try container.encode(faceCount, forKey: .faceCount)
        try container.encode(coverThumbnailUrl, forKey: .coverThumbnailUrl)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

struct PeoplePage: Codable {
    var people: [PersonOutput]
    var nextCursor: String?
}

struct FaceOutput: Codable {
    var faceId: String
    var personId: String
    var personName: String?
    /// In a photo's faces: whether the face is unassigned (its group is too small to be listed).
    var unassigned: Bool?
    var boundingBox: BoundingBox
    var thumbnailUrl: String
}

struct PersonPhotoOutput: Codable {
    var photoId: String
    var url: String
    var addedAt: Date
    var face: FaceOutput
}

struct PhotosPage: Codable {
    var photos: [PersonPhotoOutput]
    var nextCursor: String?
}

struct FailureOutput: Codable {
    var code: String
    var message: String
    var retryable: Bool

    /// The failure of a `failed` status, `nil` for any other.
    init?(_ status: PhotoStatus) {
        guard case .failed(let failure) = status else { return nil }
        code = failure.code.rawValue
        message = failure.message
        retryable = failure.retryable
    }
}

/// A photo in `GET /photos` (the Status page): what it is called, where it is in its life, why it failed.
struct PhotoSummaryOutput: Codable {
    var id: String
    var name: String
    var status: String
    var url: String
    var faceCount: Int
    var addedAt: Date
    var updatedAt: Date
    var failure: FailureOutput?
}

struct PhotoListPage: Codable {
    var photos: [PhotoSummaryOutput]
    var nextCursor: String?
}

struct PhotoOutput: Codable {
    var id: String
    var name: String
    var status: String
    var url: String
    var width: Int?
    var height: Int?
    var addedAt: Date
    var failure: FailureOutput?
    var faces: [FaceOutput]
}

struct ForgetOutput: Codable {
    var personId: String
    var facesRemoved: Int
}

struct ErrorOutput: Codable {
    struct Body: Codable {
        var code: String
        var message: String
    }

    var error: Body
}

struct UnassignedPage: Codable {
    var faces: [FaceOutput]
    var nextCursor: String?
}

struct SuggestionOutput: Codable {
    var first: PersonOutput
    var second: PersonOutput
    var similarity: Double
    var pairs: Int
    var reason: String
}

struct SuggestionsOutput: Codable {
    var suggestions: [SuggestionOutput]
}

struct OperationOutput: Codable {
    var id: String
    var kind: String
    var automatic: Bool
    var at: Date
    var summary: String
    var state: String
    var undoes: String?
    var undoneBy: String?
    var follows: String?

    init(_ operation: PeopleOperation) {
        id = operation.id
        kind = operation.kind.rawValue
        automatic = operation.automatic
        at = operation.at
        summary = operation.summary
        state = operation.state.rawValue
        undoes = operation.undoes
        undoneBy = operation.undoneBy
        follows = operation.follows
    }
}

struct OperationsPage: Codable {
    var operations: [OperationOutput]
    var nextCursor: String?
}

struct ExplanationOutput: Codable {
    struct Neighbour: Codable {
        var faceId: String
        var personId: String?
        var similarity: Double
    }

    var faceId: String
    var personId: String
    var photoId: String
    var neighbours: [Neighbour]
    var ownPersonSimilarity: Double?
    var closestOtherPersonId: String?
    var closestOtherSimilarity: Double?
    var joinThreshold: Double
    var singleFaceThreshold: Double
    var reviewThreshold: Double
    var rule: String
    var model: String
    var operations: [String]

    init(_ explanation: GroupingReview.Explanation) {
        faceId = explanation.face.rawValue
        personId = explanation.person.id.rawValue
        photoId = explanation.photo.rawValue
        neighbours = explanation.neighbours.map { Neighbour(faceId: $0.face.rawValue, personId: $0.person?.rawValue, similarity: $0.similarity) }
        ownPersonSimilarity = explanation.ownPersonSimilarity
        closestOtherPersonId = explanation.closestOtherPerson?.rawValue
        closestOtherSimilarity = explanation.closestOtherSimilarity
        joinThreshold = explanation.joinThreshold
        singleFaceThreshold = explanation.singleFaceThreshold
        reviewThreshold = explanation.reviewThreshold
        rule = explanation.rule
        model = explanation.model
        operations = explanation.operations
    }
}
