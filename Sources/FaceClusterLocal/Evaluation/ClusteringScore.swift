/// How well found clusters (people) match true labels (identities), for `facecluster evaluate`.
///
/// - **Pairwise**: over all pairs of items, precision = pairs put together that belong together / pairs put
///   together; recall = pairs put together that belong together / pairs that belong together.
/// - **BCubed** (Bagga & Baldwin): per item, precision = share of its cluster with its label, recall = share
///   of its label in its cluster; averaged over items. Unlike pairwise scores it does not let one large
///   cluster dominate.
public struct ClusteringScore: Hashable, Sendable, Codable {
    public var items: Int
    public var clusters: Int
    public var labels: Int
    public var pairwisePrecision: Double
    public var pairwiseRecall: Double
    public var pairwiseF1: Double
    public var bcubedPrecision: Double
    public var bcubedRecall: Double
    public var bcubedF1: Double

    /// - Parameter assignments: each item's (label, cluster).
    public init(_ assignments: [(label: String, cluster: String)]) {
        items = assignments.count
        clusters = Set(assignments.map(\.cluster)).count
        labels = Set(assignments.map(\.label)).count
        var byCluster: [String: [String: Int]] = [:]
        var labelSizes: [String: Int] = [:]
        for (label, cluster) in assignments {
            byCluster[cluster, default: [:]][label, default: 0] += 1
            labelSizes[label, default: 0] += 1
        }
        func pairs(_ n: Int) -> Double { Double(n * (n - 1) / 2) }
        let together = byCluster.values.map { pairs($0.values.reduce(0, +)) }.reduce(0, +)
        let correct = byCluster.values.flatMap(\.values).map(pairs).reduce(0, +)
        let belonging = labelSizes.values.map(pairs).reduce(0, +)
        pairwisePrecision = together == 0 ? 1 : correct / together
        pairwiseRecall = belonging == 0 ? 1 : correct / belonging
        pairwiseF1 = Self.f1(pairwisePrecision, pairwiseRecall)

        var precision = 0.0, recall = 0.0
        for (_, members) in byCluster {
            let size = Double(members.values.reduce(0, +))
            for (label, count) in members {
                precision += Double(count) * Double(count) / size
                recall += Double(count) * Double(count) / Double(labelSizes[label]!)
            }
        }
        bcubedPrecision = items == 0 ? 1 : precision / Double(items)
        bcubedRecall = items == 0 ? 1 : recall / Double(items)
        bcubedF1 = Self.f1(bcubedPrecision, bcubedRecall)
    }

    /// The median of `values`, as statistics defines it (and Python's `statistics.median` and NumPy compute it): the
    /// middle value of an odd count, the mean of the two middle values of an even one; nil when there are none.
    /// `evaluate --subsample --trials 50` reports it: with 50 trials it is the mean of the 25th and 26th F1s, where
    /// before 2026-12-04 it printed the 26th alone (the larger of the two).
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func f1(_ precision: Double, _ recall: Double) -> Double {
        precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }
}
