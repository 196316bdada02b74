import FaceClusterKit
import FaceClusterLocal
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

    @Test("the local library's thresholds: a face joins a group at mean distance 0.56, two lone faces that far apart stay two")
    func localThresholds() {
        let policy = LocalLibrary.pipelineDefaults.policy
        let linkage = AverageLinkage(threshold: policy.faceMatchThreshold, singleItemThreshold: policy.singleFaceMatchThreshold)
        func at(_ a: Int, _ b: Int, _ distance: Double) -> Pair { Pair(a, b, LocalFaceEngine.similarity(distance: distance)) }
        // 0–1 a pair, 2 at 0.56 from both; 3 and 4 alone, 0.56 apart; 5–6 a pair, 7 at 0.58 from both; every other
        // pair far apart (0.9).
        let near = [at(0, 1, 0.40), at(0, 2, 0.56), at(1, 2, 0.56), at(3, 4, 0.56), at(5, 6, 0.40), at(5, 7, 0.58), at(6, 7, 0.58)]
        let listed = Set(near.map { [$0.a, $0.b] })
        var pairs = near
        for a in 0..<8 { for b in (a + 1)..<8 where !listed.contains([a, b]) { pairs.append(at(a, b, 0.9)) } }
        #expect(linkage.clusters(.init(count: 8, pairs: pairs)) == [[0, 1, 2], [3], [4], [5, 6], [7]])
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

    /// `people` people of `size` faces each (items `person × size …`): 95 similar within a person, 70 across.
    static func people(_ people: Int, of size: Int, extra: Int = 0, similarity: (Int, Int) -> Double? = { _, _ in nil }) -> [Pair] {
        let n = people * size + extra
        var pairs: [Pair] = []
        for i in 0..<n {
            for j in (i + 1)..<n {
                pairs.append(Pair(i, j, similarity(i, j) ?? (i / size == j / size && i < people * size && j < people * size ? 95 : 70)))
            }
        }
        return pairs
    }

    @Test("one person twice in one photo (a mirror, a copy) does not split them: one of the two faces stays out")
    func samePersonTwiceInOnePhoto() throws {
        // Items 0–9: one person, 92 alike; 10 and 11: the same face twice in one photo (100 alike), the person's
        // most typical face: 97 like item 0, a little less like each next one.
        let pairs = Self.people(1, of: 10, extra: 2) { i, j in i >= 10 && j >= 10 ? 100 : (j >= 10 ? 97 - 0.3 * Double(i) : (j < 10 ? 92 : nil)) }
        let blocked = AverageLinkage(threshold: 90).clusters(.init(count: 12, pairs: pairs, cannotLink: [(10, 11)]))
        #expect(blocked.filter { $0.count > 1 }.count == 2, "as a cannot-link, the two copies split the person: \(blocked)")
        let clusters = AverageLinkage(threshold: 90).clusters(.init(count: 12, pairs: pairs, samePhoto: [(10, 11)]))
        #expect(clusters == [Array(0...10), [11]], "\(clusters)")
    }

    @Test("a photo-booth strip of one person keeps them one, with three of its four faces alone")
    func photoBoothStrip() throws {
        let pairs = Self.people(1, of: 10, extra: 4) { i, j in j >= 10 ? 95 : nil }
        let strip = [(10, 11), (10, 12), (10, 13), (11, 12), (11, 13), (12, 13)]
        let clusters = AverageLinkage(threshold: 90).clusters(.init(count: 14, pairs: pairs, samePhoto: strip))
        #expect(clusters.count == 4 && clusters.first { $0.count > 1 }?.count == 11, "\(clusters)")
        #expect(!clusters.contains { cluster in strip.contains { cluster.contains($0.0) && cluster.contains($0.1) } }, "never two faces of one photo together")
    }

    @Test("two look-alikes photographed together in most of their photos stay two; a user's cannot-link still holds")
    func lookAlikesTogether() throws {
        // Items 0–5 and 6–11: 95 within each, 92 across (the model alone would merge them); 5 photos show both.
        let pairs = Self.people(2, of: 6) { i, j in i / 6 != j / 6 ? 92 : nil }
        let together = (0..<5).map { ($0, $0 + 6) }
        #expect(AverageLinkage(threshold: 90).clusters(.init(count: 12, pairs: pairs, samePhoto: together)) == [Array(0..<6), Array(6..<12)])
        let once = AverageLinkage(threshold: 90).clusters(.init(count: 12, pairs: pairs, samePhoto: [(0, 6)]))
        #expect(once.map(\.count).sorted() == [1, 11], "one shared photo: the rest of their faces decide, one face of it left out: \(once)")
        #expect(AverageLinkage(threshold: 90).clusters(.init(count: 12, pairs: pairs, cannotLink: [(1, 7)], samePhoto: [(0, 6)])) == [Array(0..<6), Array(6..<12)])
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
