import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster rename PERSON NAME`.
struct Rename: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Name a person (an empty name clears it).")

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

/// `facecluster merge SOURCE TARGET`.
struct Merge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
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
        let merged = try await galleryCall { try await library.gallery.merge(from, into: into) }
        if options.json { return try printJSON(try await PersonOutput(merged, library: library)) }
        print("Merged \(from) into \(merged.id): \(merged.photoCount) photos, \(merged.faceCount) faces")
    }
}

/// `facecluster forget PERSON`.
struct Forget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forget a person: their faces, thumbnails and face vectors are deleted (the photos stay).")

    @Argument(help: "The person's id (p_…).")
    var person: String

    @OptionGroup var options: StoreOptions


    func run() async throws {
        let id = try personID(person)
        let library = try options.openExisting()
        let removed = try await galleryCall { try await library.gallery.forget(id) }
        if options.json { return try printJSON(["person": id.rawValue, "facesRemoved": String(removed)]) }
        print("Forgot \(id): \(removed) face\(removed == 1 ? "" : "s") removed")
    }
}

/// `facecluster delete PHOTO`.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove a photo from the library (its faces leave their people); the file itself is kept.",
        discussion: "Ingesting the same file again later does not bring it back unless its content changed.")

    @Argument(help: "The photo's id (ph_…) or its file.")
    var photo: String

    @OptionGroup var options: StoreOptions


    func run() async throws {
        let library = try options.openExisting()
        let id = try photoID(photo, in: library)
        try await galleryCall { try await library.gallery.deletePhoto(id) }
        if options.json { return try printJSON(["photo": id.rawValue, "status": "deleted"]) }
        print("Removed \(id) from the library")
    }
}
