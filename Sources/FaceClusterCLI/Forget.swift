import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster forget PERSON`.
struct Forget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Forget a person: their faces, thumbnails and face vectors are deleted (the photos stay).",
        discussion: "A privacy erase: it cannot be undone and is not in `facecluster history`, whose operations no longer name the person (`undo` after it undoes the operation before that did not touch them). On a terminal it asks first; --yes (or a script's standard input) does not.")

    @Argument(help: "The person's id (p_…).")
    var person: String

    @Flag(name: .long, help: "Do not ask for confirmation on a terminal.")
    var yes = false

    @OptionGroup var options: StoreOptions


    func run() async throws {
        let id = try personID(person)
        let library = try options.openExisting()
        confirm: if !yes, isatty(STDIN_FILENO) == 1 {
            let target = try await galleryCall { try await library.gallery.person(id) }
            // A merged-away id is refused by the forget itself, with the person it went into named.
            guard target.id == id else { break confirm }
            let who = "\(target.id)\(target.name.map { " (\($0))" } ?? "")"
            printError("Forget \(who): \(plural(target.photoCount, "photo")), \(plural(target.faceCount, "face"))? Their faces, thumbnails and face vectors are erased for good; it cannot be undone. [y/N] ", newline: false)
            guard let answer = readLine(), ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw CLIFailure(message: "Nothing forgotten.", status: 1)
            }
        }
        let removed = try await galleryCall { try await library.gallery.forget(id) }
        // Its thumbnails are gone; the folder they were in would still name the person (rmdir: only when empty).
        _ = rmdir(library.thumbnails.root.appendingPathComponent("people/\(id.rawValue)").path)
        struct Output: Encodable { var personId: String; var facesRemoved: Int }  // as the API's DELETE /people/{personId}
        if options.json { return try printJSON(Output(personId: id.rawValue, facesRemoved: removed)) }
        print("Forgot \(id): \(removed) face\(removed == 1 ? "" : "s") removed (for good: a forget cannot be undone)")
    }
}
