import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster delete PHOTO`.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Remove a photo from the library (its faces leave their people); the file itself is kept.",
        discussion: "Ingesting the same file again later does not bring it back unless its content changed.")

    @Argument(help: "The photo's id (ph_…) or its file.")
    var photo: String

    @OptionGroup var options: StoreOptions


    func run() async throws {
        let library = try options.openExisting()
        let id = try await photoID(photo, in: library)
        try await galleryCall { try await library.gallery.deletePhoto(id) }
        if options.json { return try printJSON(["id": id.rawValue, "status": "deleted"]) }
        print("Removed \(photo.hasPrefix("ph_") ? id.rawValue : "\(shown(photo)) (\(id))") from the library")
    }
}
