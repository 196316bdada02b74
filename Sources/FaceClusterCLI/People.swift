import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster people`: everyone found, most photos first.
struct People: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the people found, most photos first.")

    @OptionGroup var options: StoreOptions

    @Flag(help: "Under each person, list the photos they are in.")
    var photos = false


    struct Listed: Encodable {
        var person: PersonOutput
        var photos: [String]?
    }

    func run() async throws {
        let library = try options.openExisting()
        let people = try await Page.all(pageSize: 1000) { try await library.gallery.people(page: $0) }
        let listed = try await people.asyncMap { person in
            Listed(
                person: try await PersonOutput(person, library: library),
                photos: photos
                    ? try await Page.all(pageSize: 1000) { try await library.gallery.photos(of: person.id, page: $0) }.map { displayPath($0.photo.reference) }
                    : nil)
        }
        if options.json { return try printJSON(photos ? listed.map { AnyEncodable($0) } : listed.map { AnyEncodable($0.person) }) }
        if listed.isEmpty { return print("No people yet: run `facecluster ingest PHOTOS…`.") }
        for entry in listed {
            print(entry.person.line)
            let photos = entry.photos ?? []
            for photo in photos.prefix(4) { print("    \(photo)") }
            if photos.count > 4 { print("    … and \(photos.count - 4) more (`facecluster photos \(entry.person.id)`)") }
        }
    }
}

/// Lets listings print either shape as JSON.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

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
    var path: String
    var addedAt: Date
    var box: BoundingBox
    var thumbnail: String

    init(_ item: PersonPhoto, library: LocalLibrary) async throws {
        photoID = item.photo.id.rawValue
        path = displayPath(item.photo.reference)
        addedAt = item.photo.addedAt
        box = item.appearance.boundingBox
        thumbnail = try await library.gallery.thumbnailURL(for: item.appearance.thumbnailKey).path
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

/// `facecluster person ID`: one person and their photos.
struct PersonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "person", abstract: "Show one person and the photos they are in.")

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
        for photo in output.photos { print("  \(photo.photoID)  \(photo.path)") }
    }
}

/// `facecluster photos PERSON`: the photos a person is in, newest first.
struct Photos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the photos a person is in, newest first.")

    @Argument(help: "The person's id (p_…).")
    var person: String

    @OptionGroup var options: StoreOptions


    func run() async throws {
        let id = try personID(person)
        let library = try options.openExisting()
        let photos = try await galleryCall { try await Page.all(pageSize: 1000) { try await library.gallery.photos(of: id, page: $0) } }
        let listed = try await photos.asyncMap { try await PersonPhotoOutput($0, library: library) }
        if options.json { return try printJSON(listed) }
        for photo in listed { print(photo.path) }
    }
}
