import FaceClusterKit
import FaceClusterLocal
import Foundation
import Testing

/// Grouping quality on the two labeled dev sets with the library's defaults, as `facecluster evaluate` measures
/// it: the largest face of each photo scored with its folder (BCubed). Targets: no wrong merge anywhere, full
/// sets at F1 ≥ 0.98 in any arrival order, and small libraries (2–3 photos per person) without a wrong merge.
@Suite("Grouping quality on the labeled sets", .enabled(if: LabeledSet.available, "needs scripts/fetch-test-data.sh"), .serialized)
struct GroupingQualityTests {
    static let evaluation = GroupingEvaluation()
    static var lfw10: URL { Bundle.module.url(forResource: "lfw10", withExtension: nil, subdirectory: "Fixtures")! }
    static var policy: GroupingPolicy { LocalLibrary.pipelineDefaults.policy }

    @Test("full sets: no wrong merge, F1 ≥ 0.98, the same people in every arrival order", arguments: ["labeled", "lfw10"])
    func fullSets(_ name: String) async throws {
        let set = try LabeledPhotos(folder: name == "lfw10" ? Self.lfw10 : LabeledSet.directory)
        try #require(set.photos.count >= 60)
        let reference = try await Self.evaluation.run(set, policy: Self.policy, jobs: 2)
        #expect(reference.mixed.isEmpty, "wrong merges: \(reference.mixed)")
        #expect(reference.score.bcubedF1 >= 0.98, "BCubed F1 \(reference.score.bcubedF1); split: \(reference.split)")
        for seed in 1...4 {
            let shuffled = try await Self.evaluation.run(set.shuffled(seed: UInt64(seed)), policy: Self.policy, jobs: 1)
            #expect(shuffled.partition == reference.partition, "arrival order \(seed) gave other people")
        }
    }

    @Test("50 libraries of 2–3 photos per person from lfw10: no wrong merge, median F1 ≥ 0.98")
    func smallLibraries() async throws {
        let set = try LabeledPhotos(folder: Self.lfw10)
        var f1: [Double] = []
        for seed in 1...50 {
            let result = try await Self.evaluation.run(set.subsample(2...3, seed: UInt64(seed)), policy: Self.policy, jobs: 2)
            #expect(result.mixed.isEmpty, "subset \(seed): wrong merges \(result.mixed)")
            f1.append(result.score.bcubedF1)
        }
        let median = try #require(ClusteringScore.median(f1))
        let worst = try #require(f1.min())
        print("lfw10, 50 subsets of 2–3 photos per person: BCubed F1 worst \(worst), median \(median)")
        // The target. About 60 % of such libraries are grouped exactly as labeled at the defaults, so
        // the median of 50 reaches it in 40 of 40 independent draws (Docs/grouping.md §6); one library's split
        // scores 0.95–0.98.
        #expect(median >= 0.98)
        #expect(worst >= 0.9)
    }
}
