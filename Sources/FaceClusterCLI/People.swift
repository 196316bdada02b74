import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster people`: everyone found, most photos first.
struct People: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "people", abstract: "List the people found, most photos first.")

    @OptionGroup var options: StoreOptions

    @Flag(help: "Under each person, list the photos they are in.")
    var photos = false

    @Flag(help: "List the unassigned faces instead: strangers seen fewer times than a person needs (make one a person with `make-person`).")
    var unassigned = false

    struct UnassignedFace: Encodable {
        var faceID: String
        /// The group it is in: a person not listed yet (what the API's `personId` of an unassigned face is).
        var group: String
        var photoID: String
        var path: String
        var thumbnail: String

        /// The names the HTTP API gives the same things (Docs/openapi.yaml), so one script reads both.
        enum CodingKeys: String, CodingKey {
            case faceID = "faceId", group = "personId", photoID = "photoId", path, thumbnail
        }
    }


    struct Listed: Encodable {
        var person: PersonOutput
        var photos: [String]?
    }

    func run() async throws {
        let library = try options.openExisting()
        if unassigned { return try await listUnassigned(library) }
        let people = try await Page.all(pageSize: 1000) { try await library.gallery.people(page: $0) }
        let listed = try await people.asyncMap { person in
            Listed(
                person: try await PersonOutput(person, library: library),
                photos: photos
                    ? try await Page.all(pageSize: 1000) { try await library.gallery.photos(of: person.id, page: $0) }.map { displayPath($0.photo.reference) }
                    : nil)
        }
        if options.json { return try printJSON(photos ? listed.map { AnyEncodable($0) } : listed.map { AnyEncodable($0.person) }) }
        if listed.isEmpty {
            let waiting = try await Page.all(pageSize: 1000) { try await library.gallery.unassignedFaces(page: $0) }.reduce(0) { $0 + $1.faceCount }
            if waiting == 0 { return print("No people yet: run `facecluster ingest PHOTOS…`.") }
            return print("No people yet: \(plural(waiting, "face")) \(waiting == 1 ? "waits" : "wait") unassigned, seen fewer than \(library.gallery.minimumFacesPerPerson) times (`facecluster people --unassigned` lists them; `facecluster make-person FACE` makes one a person).")
        }
        for entry in listed {
            print(entry.person.line)
            let photos = entry.photos ?? []
            for photo in photos.prefix(4) { print("    \(shown(photo))") }
            if photos.count > 4 { print("    … and \(photos.count - 4) more (`facecluster photos \(entry.person.id)`)") }
        }
    }

    func listUnassigned(_ library: LocalLibrary) async throws {
        let groups = try await Page.all(pageSize: 1000) { try await library.gallery.unassignedFaces(page: $0) }
        var faces: [UnassignedFace] = []
        for group in groups {
            for item in try await Page.all(pageSize: 1000, { try await library.gallery.faces(of: group.id, page: $0) }) {
                faces.append(UnassignedFace(
                    faceID: item.appearance.faceID.rawValue, group: group.id.rawValue, photoID: item.photo.id.rawValue,
                    path: displayPath(item.photo.reference),
                    thumbnail: try await library.gallery.thumbnailURL(for: item.appearance.thumbnailKey).path))
            }
        }
        if options.json { return try printJSON(faces) }
        if faces.isEmpty { return print("No unassigned faces.") }
        print("\(plural(faces.count, "unassigned face")) (seen fewer than \(library.gallery.minimumFacesPerPerson) times; `facecluster make-person FACE` makes one a person):")
        for face in faces { print("  \(face.faceID)  \(shown(face.path))  \(face.thumbnail)") }
    }

}

/// Lets listings print either shape as JSON.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
