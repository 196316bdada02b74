#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The items of the three tables (Docs/data-model.md): each record as one JSON document plus the attributes
/// keys, indexes and conditions need.
extension DynamoDBMetadataStore {
    static let personListing = "people"

    static func json<T: Encodable>(_ value: T) throws -> DynamoDBValue {
        .string(String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ item: DynamoDBItem) throws -> T {
        guard let text = item["record"]?.stringValue else { throw MetadataStoreError.unavailable(detail: "an item has no record") }
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    // MARK: Photos

    static func photoKey(_ id: PhotoID) -> DynamoDBItem { ["photoId": .string(id.rawValue)] }

    static func photoItem(_ photo: Photo) throws -> DynamoDBItem {
        ["photoId": .string(photo.id.rawValue), "status": .string(photo.status.kind.rawValue), "revision": .number(photo.revision), "record": try json(photo)]
    }

    static func photo(_ item: DynamoDBItem) throws -> Photo {
        var photo = try decode(Photo.self, item)
        photo.revision = item["revision"]?.intValue ?? photo.revision
        return photo
    }

    // MARK: People

    static func personKey(_ id: PersonID) -> DynamoDBItem { ["personId": .string(id.rawValue)] }

    /// Most photos first, ties by id: `(9999999999 − photoCount)` padded, `#`, the id.
    static func rank(of person: Person) -> String {
        String(9_999_999_999 - person.photoCount).leftPadded(to: 10) + "#" + person.id.rawValue
    }

    static func personItem(_ person: Person, revision: Int) throws -> DynamoDBItem {
        [
            "personId": .string(person.id.rawValue), "revision": .number(revision), "listing": .string(personListing),
            "rank": .string(rank(of: person)), "record": try json(person),
        ]
    }

    /// A merged-away person: a redirect to where its faces went (it leaves the people listing).
    static func redirectItem(_ person: Person, into target: PersonID, revision: Int) throws -> DynamoDBItem {
        ["personId": .string(person.id.rawValue), "revision": .number(revision), "mergedInto": .string(target.rawValue), "record": try json(person)]
    }

    // MARK: Faces

    static func appearanceKey(_ face: FaceID) -> DynamoDBItem { ["pk": .string("face#" + face.rawValue), "sk": .string("appearance")] }

    /// Newest photo first, ties by face id: `(9999999999999 − photoAddedAt in ms)` padded, `#`, the face id.
    static func personRank(of appearance: Appearance) -> String {
        let milliseconds = Int((appearance.photoAddedAt.timeIntervalSince1970 * 1000).rounded())
        return String(9_999_999_999_999 - milliseconds).leftPadded(to: 13) + "#" + appearance.faceID.rawValue
    }

    static func appearanceItem(_ appearance: Appearance) throws -> DynamoDBItem {
        appearanceKey(appearance.faceID).merging([
            "personId": .string(appearance.personID.rawValue), "personRank": .string(personRank(of: appearance)),
            "photoId": .string(appearance.photoID.rawValue), "record": try json(appearance),
        ]) { $1 }
    }

    static func counterKey(person: PersonID, photo: PhotoID) -> DynamoDBItem {
        ["pk": .string("personphoto#" + person.rawValue), "sk": .string(photo.rawValue)]
    }

    static func pendingItem(_ match: PendingMatch) -> DynamoDBItem {
        [
            "pk": .string("face#" + match.face.rawValue),
            "sk": .string("pending#\(match.matchedBy.rawValue)#\(match.matcherFoundedPerson ? 1 : 0)"),
            "matchedBy": .string(match.matchedBy.rawValue), "matcherFoundedPerson": .bool(match.matcherFoundedPerson),
        ]
    }

    static func revisionIs(_ revision: Int) -> DynamoDBExpression {
        DynamoDBExpression("#revision = :revision", names: ["#revision": "revision"], values: [":revision": .number(revision)])
    }

    static func facesAre(_ faces: Int) -> DynamoDBExpression {
        faces == 0 ? DynamoDBExpression("attribute_not_exists(pk)")
            : DynamoDBExpression("#faces = :faces", names: ["#faces": "faces"], values: [":faces": .number(faces)])
    }
}
