import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster person ID`: one person and their photos.
struct PersonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "person", abstract: "Show one person and the photos they are in.")

    @Argument(help: "The person's id (p_…).")
    var id: String

    @OptionGroup var options: StoreOptions


    struct Output: Encodable {
        var person: PersonOutput
        var photos: [PersonPhotoOutput]
    }

    func run() async throws {
        let id = try personID(id)
        let library = try options.openExisting()
        let person = try await galleryCall { try await library.gallery.person(id) }
        let photos = try await Page.all(pageSize: 1000) { try await library.gallery.photos(of: id, page: $0) }
        let output = Output(
            person: try await PersonOutput(person, library: library),
            photos: try await photos.asyncMap { try await PersonPhotoOutput($0, library: library) })
        if options.json { return try printJSON(output) }
        print(output.person.line)
        for photo in output.photos { print("  \(photo.photoID)  \(shown(photo.path))") }
    }
}
