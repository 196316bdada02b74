import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster merge SOURCE TARGET`.
struct Merge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge two people who are the same person.",
        discussion: "SOURCE's faces move to TARGET; SOURCE's id keeps working and answers with TARGET.")

    @Argument(help: "The person merged away (p_…).")
    var source: String

    @Argument(help: "The person who stays (p_…).")
    var target: String

    @OptionGroup var options: StoreOptions


    func run() async throws {
        let (from, into) = (try personID(source), try personID(target))
        let library = try options.openExisting()
        // An id merged away answers with the person it went to: two ids may already be one person.
        let already = try await galleryCall { try await library.gallery.person(from).id == library.gallery.person(into).id }
        let merged = try await galleryCall { try await library.gallery.merge(from, into: into) }
        if options.json { return try printJSON(try await PersonOutput(merged, library: library)) }
        if already, from != into {
            return print("\(from) and \(into) are already one person, \(merged.id): \(merged.photoCount) photos, \(merged.faceCount) faces")
        }
        print("Merged \(from) into \(merged.id): \(merged.photoCount) photos, \(merged.faceCount) faces")
    }
}
