import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// A person as the listings print it.
struct PersonOutput: Encodable {
    var id: String
    var name: String?
    var photoCount: Int
    var faceCount: Int
    /// The cover face's thumbnail file.
    var thumbnail: String?

    init(_ person: Person, library: LocalLibrary) async throws {
        id = person.id.rawValue
        name = person.name
        photoCount = person.photoCount
        faceCount = person.faceCount
        thumbnail = try await person.coverThumbnailKey.asyncMap { try await library.gallery.thumbnailURL(for: $0).path }
    }

    /// `p_…  "Name"  3 photos, 3 faces  thumbnail`
    var line: String {
        "\(id)  \(name.map { "\"\($0)\"" } ?? "(unnamed)")  \(plural(photoCount, "photo")), \(plural(faceCount, "face"))  \(thumbnail ?? "")"
    }
}

/// A photo of a person as the listings print it.
struct PersonPhotoOutput: Encodable {
    var photoID: String
    /// The person's face in the photo (what `move`, `explain` and `make-person` take).
    var faceID: String
    var path: String
    var addedAt: Date
    var box: BoundingBox
    var thumbnail: String

    /// The names the HTTP API gives the same things (Docs/openapi.yaml), so one script reads both.
    enum CodingKeys: String, CodingKey {
        case photoID = "photoId", faceID = "faceId", path, addedAt, box = "boundingBox", thumbnail
    }

    init(_ item: PersonPhoto, library: LocalLibrary) async throws {
        photoID = item.photo.id.rawValue
        faceID = item.appearance.faceID.rawValue
        path = displayPath(item.photo.reference)
        addedAt = item.photo.addedAt
        box = item.appearance.boundingBox
        thumbnail = try await library.gallery.thumbnailURL(for: item.appearance.thumbnailKey).path
    }
}
