import FaceClusterLocal
import Testing

/// The figures `facecluster evaluate` prints: BCubed scores and the median over trials.
@Suite("Clustering scores")
struct ClusteringScoreTests {
    @Test("a split person costs BCubed recall, a wrong merge costs precision")
    func bcubed() {
        // Alice's 3 faces split 2 + 1; Bob's 2 together: precision 1, recall (2/3 + 2/3 + 1/3 + 1 + 1) / 5.
        let split = ClusteringScore([("alice", "p1"), ("alice", "p1"), ("alice", "p2"), ("bob", "p3"), ("bob", "p3")])
        #expect(split.bcubedPrecision == 1)
        #expect(abs(split.bcubedRecall - 11.0 / 15.0) < 1e-12)
        // Alice and Bob in one person: recall 1, precision (3/5 × 3 + 2/5 × 2) / 5.
        let merged = ClusteringScore([("alice", "p1"), ("alice", "p1"), ("alice", "p1"), ("bob", "p1"), ("bob", "p1")])
        #expect(merged.bcubedRecall == 1)
        #expect(abs(merged.bcubedPrecision - 13.0 / 25.0) < 1e-12)
    }

    @Test("the median is the middle value, or the mean of the two middle values of an even count")
    func median() {
        #expect(ClusteringScore.median([]) == nil)
        #expect(ClusteringScore.median([0.9]) == 0.9)
        #expect(ClusteringScore.median([1.0, 0.9, 0.95]) == 0.95)
        // 50 trials, half perfect: the 25th and 26th values are 0.96 and 1.0.
        let half = Array(repeating: 0.96, count: 25) + Array(repeating: 1.0, count: 25)
        #expect(abs((ClusteringScore.median(half.shuffled()) ?? 0) - 0.98) < 1e-12)
    }
}
