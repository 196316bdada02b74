import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import Foundation

/// `facecluster recluster`: re-derives every person from the face graph (``Consolidation/runAll()``).
struct Recluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recluster",
        abstract: "Regroup every face from scratch (average linkage over all the evidence) and apply what changed.",
        discussion: """
            `ingest` already regroups the faces each run touched; run this after changing the grouping settings, or \
            to check that the people do not depend on the order photos were added in. Named people keep their \
            faces and names; person ids stay stable (a person keeps its id where most of its faces are).
            """)

    @OptionGroup var options: StoreOptions

    func run() async throws {
        let library = try options.openExisting()
        // With the faces a stopped or killed `ingest` left unconsolidated (some may have no person yet).
        let unconsolidated = try await UnconsolidatedFaces.open(in: library.directory)
        let report = try await unconsolidated.consolidate(in: library) { abandoned in
            try await library.engine.reloadVectors()
            return try await Consolidation(pipeline: library.pipeline).runAll(alsoTouching: abandoned)
        }
        try await unconsolidated.remove()
        let summary = RegroupSummary(report)
        if options.json { return try printJSON(summary) }
        print(summary.text)
    }
}
