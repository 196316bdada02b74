import FaceClusterKit
import Testing

@Suite("Average linkage with constraints")
struct AverageLinkageTests {
    typealias Pair = AverageLinkage.Pair

    @Test("merges by mean similarity, highest first, and stops below the threshold")
    func basic() {
        // 0–1–2 close, 3–4 close, 2–3 a single strong link but weak on average.
        let pairs = [Pair(0, 1, 98), Pair(0, 2, 95), Pair(1, 2, 96), Pair(3, 4, 97), Pair(2, 3, 93), Pair(0, 3, 60), Pair(1, 3, 60),
                     Pair(0, 4, 55), Pair(1, 4, 55), Pair(2, 4, 70)]
        let clusters = AverageLinkage(threshold: 90).clusters(.init(count: 5, pairs: pairs))
        #expect(clusters == [[0, 1, 2], [3, 4]], "one strong pair (2–3) does not chain two groups")
        #expect(AverageLinkage(threshold: 50).clusters(.init(count: 5, pairs: pairs)) == [[0, 1, 2, 3, 4]])
    }

    @Test("two single items need the stricter single-item threshold")
    func singleItems() {
        let pairs = [Pair(0, 1, 90.3)]
        #expect(AverageLinkage(threshold: 90, singleItemThreshold: 90.5).clusters(.init(count: 2, pairs: pairs)) == [[0], [1]])
        #expect(AverageLinkage(threshold: 90, singleItemThreshold: 90.2).clusters(.init(count: 2, pairs: pairs)) == [[0, 1]])
    }

    @Test("cannot-links keep clusters apart; must-link groups start together; pinned groups never merge")
    func constraints() {
        let pairs = [Pair(0, 1, 99), Pair(1, 2, 99), Pair(0, 2, 99), Pair(3, 4, 99)]
        #expect(AverageLinkage(threshold: 90).clusters(.init(count: 5, pairs: pairs, cannotLink: [(0, 2)])) == [[0, 1], [2], [3, 4]])
        // 0 and 4 must be together although nothing links them.
        #expect(AverageLinkage(threshold: 90).clusters(.init(count: 5, pairs: pairs, groups: [[0, 4]])) == [[0, 1, 2, 3, 4]])
        // Two pinned groups with a strong link stay apart; a free item joins one of them.
        let pinned = AverageLinkage(threshold: 90).clusters(.init(
            count: 5, pairs: pairs + [Pair(1, 3, 99), Pair(0, 3, 99), Pair(2, 3, 99)], groups: [[0, 1], [3, 4]], pinnedGroups: [0, 1]))
        #expect(pinned.count == 2 && pinned.contains { $0.contains(0) && !$0.contains(3) })
    }

    @Test("sparse input: a cluster needs as many observed pairs as its smaller side has items")
    func sparseCoverage() {
        // {0,1} and {2,3}: only one observed pair between them, strong.
        let pairs = [Pair(0, 1, 99.5), Pair(2, 3, 99.5), Pair(1, 2, 99)]
        #expect(AverageLinkage(threshold: 90).clusters(.init(count: 4, pairs: pairs)) == [[0, 1], [2, 3]])
        #expect(AverageLinkage(threshold: 90).clusters(.init(count: 4, pairs: pairs + [Pair(0, 3, 95)])) == [[0, 1, 2, 3]])
    }

    @Test("the same pairs in any order and any numbering give the same clusters", arguments: 0..<5)
    func orderIndependence(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let n = 40
        var pairs: [Pair] = []
        for i in 0..<n { for j in (i + 1)..<n { pairs.append(Pair(i, j, (i / 8 == j / 8 ? 92 : 70) + Double(Int.random(in: 0...600, using: &generator)) / 100)) } }
        let reference = AverageLinkage(threshold: 90).clusters(.init(count: n, pairs: pairs))
        let shuffled = pairs.shuffled(using: &generator).map { Bool.random(using: &generator) ? Pair($0.b, $0.a, $0.similarity) : $0 }
        #expect(AverageLinkage(threshold: 90).clusters(.init(count: n, pairs: shuffled)) == reference)
        #expect(reference.count == 5 && reference.allSatisfy { $0.count == 8 })
    }
}
