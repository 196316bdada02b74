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
