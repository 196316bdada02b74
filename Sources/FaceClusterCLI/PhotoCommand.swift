import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster photo PHOTO`: one photo, its status and the people in it.
struct PhotoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "photo", abstract: "Show one photo: its status and the people in it.")

    @Argument(help: "The photo's id (ph_…) or its file.")
    var photo: String

    @OptionGroup var options: StoreOptions


    struct Output: Encodable {
        struct Face: Encodable {
            var faceID: String
            var personID: String
            var personName: String?
            /// The face's group is not listed among the people yet (a stranger: seen fewer times than a person needs).
            var unassigned: Bool
            var box: BoundingBox
            var thumbnail: String

            /// The names the HTTP API gives the same things (Docs/openapi.yaml), so one script reads both.
            enum CodingKeys: String, CodingKey {
                case faceID = "faceId", personID = "personId", personName, unassigned, box = "boundingBox", thumbnail
            }
        }

        var id: String
        var path: String
        var status: String
        var failure: PhotoFailure?
        var width: Int?
        var height: Int?
        var faces: [Face]
        var skippedFaces: [SkippedFace]
    }

    func run() async throws {
        let library = try options.openExisting()
        let id = try await photoID(photo, in: library)
        if let record = try await library.metadata.photo(id), record.status == .deleted {
            // The gallery answers "no photo" for a deleted one (as its API does); here the user named it.
            if options.json {
                return try printJSON(Output(id: id.rawValue, path: displayPath(record.reference), status: record.status.kind.rawValue, faces: [], skippedFaces: []))
            }
            return print("\(id.rawValue)  \(shown(displayPath(record.reference)))  deleted: removed from the library (`facecluster delete`); ingesting the same file again leaves it out, a changed file comes back")
        }
        let detail = try await galleryCall { try await library.gallery.photo(id) }
        var failure: PhotoFailure?
        if case .failed(let reason) = detail.photo.status { failure = reason }
        let output = Output(
            id: id.rawValue, path: displayPath(detail.photo.reference), status: detail.photo.status.kind.rawValue, failure: failure,
            width: detail.photo.width, height: detail.photo.height,
            faces: try await detail.faces.asyncMap { face in
                Output.Face(
                    faceID: face.appearance.faceID.rawValue, personID: face.person.id.rawValue, personName: face.person.name,
                    unassigned: !library.gallery.isListed(face.person), box: face.appearance.boundingBox, thumbnail: try await library.gallery.thumbnailURL(for: face.appearance.thumbnailKey).path)
            },
            skippedFaces: detail.photo.skippedFaces)
        if options.json { return try printJSON(output) }
        print("\(output.id)  \(shown(output.path))  \(output.status)\(failure.map { ": \($0.code.rawValue) — \($0.message)" } ?? "")")
        for face in output.faces {
            if face.unassigned {
                print("  unassigned (seen fewer than \(library.gallery.minimumFacesPerPerson) times: `facecluster people --unassigned`)  face \(face.faceID)")
            } else {
                print("  \(face.personID)  \(face.personName.map { "\"\($0)\"" } ?? "(unnamed)")  face \(face.faceID)")
            }
        }
        if !output.skippedFaces.isEmpty { print("  \(output.skippedFaces.count) face(s) skipped: \(output.skippedFaces.map(\.reason.rawValue).joined(separator: ", "))") }
    }
}
