import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster rename PERSON NAME`.
struct Rename: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rename", abstract: "Name a person (an empty name clears it).")

    @Argument(help: "The person's id (p_…).")
    var person: String

    @Argument(help: "The new name.")
    var name: String

    @OptionGroup var options: StoreOptions


    func run() async throws {
        let id = try personID(person)
        let library = try options.openExisting()
        let renamed = try await galleryCall { try await library.gallery.rename(id, to: name) }
        if options.json { return try printJSON(try await PersonOutput(renamed, library: library)) }
        print("\(renamed.id) is now \(renamed.name.map { "\"\($0)\"" } ?? "unnamed")")
    }
}
