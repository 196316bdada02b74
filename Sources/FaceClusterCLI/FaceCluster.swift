import ArgumentParser

/// `facecluster`: finds the faces in photos, groups them into people, and lists people and their photos.
@main
struct FaceCluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facecluster",
        abstract: "Find the faces in photos and group them into people.",
        discussion: """
            Until the local face engine lands, `facecluster demo` runs the whole pipeline on a generated photo \
            library with the SDK's in-memory adapters.
            """,
        version: "0.1.0",
        subcommands: [Demo.self, Bench.self])
}
