import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster status`: every photo with its status; for failures, the reason.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "List every photo with its status (and the reason for failures).")

    @Option(help: "Only photos with this status: \(PhotoStatus.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var status: PhotoStatus.Kind?

    @OptionGroup var options: StoreOptions


    struct Output: Encodable {
        var id: String
        var path: String
        var status: String
        var faces: Int
        var failure: PhotoFailure?
        /// Present (true) when the photo is done but its file is gone: moved or deleted since (`repair` lists it
        /// as missing_original; `delete PATH` takes it out).
        var fileGone: Bool?
    }

    func run() async throws {
        let library = try options.openExisting()
        let photos = try await Page.all(pageSize: 1000) { try await library.metadata.photos(withStatus: status, page: $0) }
        let gone = try await library.withFileGone(photos)
        let listed = photos.map { photo -> Output in
            var failure: PhotoFailure?
            if case .failed(let reason) = photo.status { failure = reason }
            return Output(
                id: photo.id.rawValue, path: displayPath(photo.reference), status: photo.status.kind.rawValue, faces: photo.faceIDs.count,
                failure: failure, fileGone: gone.contains(photo.id) ? true : nil)
        }.sorted { $0.path < $1.path }
        if options.json { return try printJSON(listed) }
        for photo in listed {
            let reason = photo.failure.map { ": \($0.code.rawValue) — \($0.message)" } ?? (photo.status == "indexed" ? ": \(photo.faces) face\(photo.faces == 1 ? "" : "s")" : "")
            let note = photo.fileGone == true ? " (its file is gone: `facecluster delete PATH` takes it out)" : ""
            print("\(photo.status.padding(toLength: 10, withPad: " ", startingAt: 0)) \(shown(photo.path))\(reason)\(note)")
        }
        let counts = Dictionary(listed.map { ($0.status, 1) }, uniquingKeysWith: +).sorted { $0.key < $1.key }
        if listed.isEmpty { return print("No photos\(status.map { " with status \($0.rawValue)" } ?? "").") }
        print("\(listed.count) photo\(listed.count == 1 ? "" : "s"): " + counts.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
    }
}

extension PhotoStatus.Kind: ExpressibleByArgument {}
