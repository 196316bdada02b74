import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster photos PERSON`: the photos a person is in, newest first.
struct Photos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "photos", abstract: "List the photos a person is in, newest first.")

    @Argument(help: "The person's id (p_…).")
    var person: String

    @OptionGroup var options: StoreOptions


    func run() async throws {
        let id = try personID(person)
        let library = try options.openExisting()
        let photos = try await galleryCall { try await Page.all(pageSize: 1000) { try await library.gallery.photos(of: id, page: $0) } }
        let listed = try await photos.asyncMap { try await PersonPhotoOutput($0, library: library) }
        if options.json { return try printJSON(listed) }
        for photo in listed { print(shown(photo.path)) }
    }
}
