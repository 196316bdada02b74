/// Agglomerative clustering with average linkage, cannot-links and must-link groups: the batch rule that
/// re-derives people from the face graph (``Consolidation``).
///
/// Every item starts alone (or in its must-link group); repeatedly the two clusters with the highest
/// *link* — the mean similarity of the pairs between them — merge, while the link is at least ``threshold``
/// (two single items need ``singleItemThreshold``: one face never joins another on weaker evidence than a
/// person needs). Two clusters never merge when a cannot-link pair lies between them (a user's "not this
/// person"), nor when both are *pinned* (people a user asserted stay apart unless a user merges them).
///
/// Faces of one photo (``Input/samePhoto``) are never in one cluster either, but they keep two clusters apart
/// only while their evidence does: a photo can show one person twice (a mirror, a collage, a photo-booth strip,
/// a contact sheet), and two copies of one face would otherwise each gather half of that person's faces and
/// split them for good. After the merges above, two clusters that only such pairs keep apart, whose other faces
/// link at the threshold (the same rule, without the faces of those photos) and that share few such photos (at
/// most one, or a quarter of the smaller cluster: twins photographed together in most of their photos stay two),
/// merge; of each pair of faces of one photo, the one less similar to the rest stays out, alone.
///
/// - **Dense input** (every pair's similarity given, as the local engine's vectors allow): this is classic
///   average linkage (UPGMA).
/// - **Sparse input** (only the pairs a face search returned, as Rekognition gives): pairs without a
///   similarity are left out of the mean, but clusters only merge when the pairs seen between them are at
///   least as many as the smaller cluster has items, so one stray edge cannot chain two people together.
///
/// Deterministic: items are numbered by the caller (by face id), ties break on the smallest item of each
/// cluster, so the same graph gives the same clusters whatever order its faces arrived in.
/// Cost: O(E log E) for E observed pairs plus the neighbours touched by each merge; memory O(E).
public struct AverageLinkage: Sendable {
    /// Lowest mean similarity at which two clusters merge.
    public var threshold: Double
    /// Lowest similarity at which two single items merge (at least ``threshold``).
    public var singleItemThreshold: Double

    public init(threshold: Double, singleItemThreshold: Double? = nil) {
        self.threshold = threshold
        self.singleItemThreshold = max(singleItemThreshold ?? threshold, threshold)
    }

    /// One similarity between items `a` and `b` (`a != b`).
    public struct Pair: Sendable, Hashable {
        public var a: Int
        public var b: Int
        public var similarity: Double
        public init(_ a: Int, _ b: Int, _ similarity: Double) {
            self.a = a
            self.b = b
            self.similarity = similarity
        }
    }

    /// The problem: `count` items, the similarities known between them, pairs that must stay apart, groups
    /// that start (and stay) together, and which groups are pinned.
    public struct Input: Sendable {
        public var count: Int
        public var pairs: [Pair]
        public var cannotLink: [(Int, Int)]
        /// Must-links: each group starts as one cluster. Items in no group start alone.
        public var groups: [[Int]]
        /// Indices into ``groups`` of the pinned ones.
        public var pinnedGroups: Set<Int>
        /// Pairs of faces of one photo: never in one cluster, but two clusters they alone keep apart may merge,
        /// leaving one face of each pair out (see the type's discussion).
        public var samePhoto: [(Int, Int)]

        public init(
            count: Int, pairs: [Pair], cannotLink: [(Int, Int)] = [], groups: [[Int]] = [], pinnedGroups: Set<Int> = [],
            samePhoto: [(Int, Int)] = []
        ) {
            self.count = count
            self.pairs = pairs
            self.cannotLink = cannotLink
            self.groups = groups
            self.pinnedGroups = pinnedGroups
            self.samePhoto = samePhoto
        }
    }

    private struct Link {
        var sum = 0.0
        var count = 0
        var cannot = 0
    }

    private struct Candidate: Comparable {
        var link: Double
        var first: Int
        var second: Int
        var firstVersion: Int
        var secondVersion: Int

        /// Higher link first; then the smaller clusters' representatives.
        static func < (lhs: Candidate, rhs: Candidate) -> Bool {
            if lhs.link != rhs.link { return lhs.link > rhs.link }
            return (lhs.first, lhs.second) < (rhs.first, rhs.second)
        }
    }

    /// The clusters, each a sorted list of items, ordered by their smallest item.
    public func clusters(_ input: Input) -> [[Int]] {
        let n = input.count
        guard n > 0 else { return [] }
        // Clusters are named by their representative: their smallest item.
        var clusterOf = Array(0..<n)
        var members: [[Int]?] = (0..<n).map { [$0] }
        var pinned = [Bool](repeating: false, count: n)
        var version = [Int](repeating: 0, count: n)
        for (index, group) in input.groups.enumerated() {
            let clusters = Set(group.filter { $0 >= 0 && $0 < n }.map { clusterOf[$0] })
            guard let target = clusters.min() else { continue }
            var merged: [Int] = []
            var isPinned = input.pinnedGroups.contains(index)
            for cluster in clusters {
                merged += members[cluster] ?? []
                isPinned = isPinned || pinned[cluster]
                if cluster != target { members[cluster] = nil }
            }
            for item in merged { clusterOf[item] = target }
            members[target] = merged.sorted()
            pinned[target] = isPinned
        }

        var links = [[Int: Link]](repeating: [:], count: n)
        for pair in input.pairs where pair.a != pair.b && pair.a >= 0 && pair.b >= 0 && pair.a < n && pair.b < n {
            let (x, y) = (clusterOf[pair.a], clusterOf[pair.b])
            guard x != y else { continue }
            links[x][y, default: Link()].sum += pair.similarity
            links[x][y, default: Link()].count += 1
            links[y][x, default: Link()].sum += pair.similarity
            links[y][x, default: Link()].count += 1
        }
        for (p, q) in input.cannotLink + input.samePhoto where p >= 0 && q >= 0 && p < n && q < n {
            let (x, y) = (clusterOf[p], clusterOf[q])
            guard x != y else { continue }
            links[x][y, default: Link()].cannot += 1
            links[y][x, default: Link()].cannot += 1
        }

        func size(_ cluster: Int) -> Int { members[cluster]?.count ?? 0 }
        func candidate(_ x: Int, _ y: Int) -> Candidate? {
            guard let link = links[x][y], link.cannot == 0, !(pinned[x] && pinned[y]),
                  let mean = merging(sum: link.sum, count: link.count, sizes: (size(x), size(y)))
            else { return nil }
            let (first, second) = x < y ? (x, y) : (y, x)
            return Candidate(link: mean, first: first, second: second, firstVersion: version[first], secondVersion: version[second])
        }

        var heap = Heap<Candidate>()
        for x in 0..<n where members[x] != nil {
            for y in links[x].keys where x < y {
                if let next = candidate(x, y) { heap.insert(next) }
            }
        }
        while let best = heap.popMin() {
            guard members[best.first] != nil, members[best.second] != nil,
                  version[best.first] == best.firstVersion, version[best.second] == best.secondVersion
            else { continue }
            // Merge the second cluster into the first (the smaller representative).
            let (keep, gone) = (best.first, best.second)
            for item in members[gone] ?? [] { clusterOf[item] = keep }
            members[keep] = ((members[keep] ?? []) + (members[gone] ?? [])).sorted()
            members[gone] = nil
            pinned[keep] = pinned[keep] || pinned[gone]
            version[keep] += 1
            for (other, link) in links[gone] where other != keep {
                var combined = links[keep][other] ?? Link()
                combined.sum += link.sum
                combined.count += link.count
                combined.cannot += link.cannot
                links[keep][other] = combined
                links[other][keep] = combined
                links[other][gone] = nil
            }
            links[keep][gone] = nil
            links[gone] = [:]
            for other in links[keep].keys.sorted() {
                if let next = candidate(keep, other) { heap.insert(next) }
            }
        }
        let clusters = members.compactMap { $0 }.sorted { $0[0] < $1[0] }
        return input.samePhoto.isEmpty ? clusters : joinedAcrossPhotos(clusters, input)
    }

    /// The link of two clusters of `sizes` whose `count` observed pairs add up to `sum`, when it merges them: at
    /// least ``threshold`` (``singleItemThreshold`` for two single items), on at least as many pairs as the
    /// smaller cluster has items; `nil` otherwise.
    private func merging(sum: Double, count: Int, sizes: (Int, Int)) -> Double? {
        guard count > 0, count >= min(sizes.0, sizes.1) else { return nil }
        let mean = sum / Double(count)
        guard mean >= threshold, sizes.0 > 1 || sizes.1 > 1 || mean >= singleItemThreshold else { return nil }
        return mean
    }

    /// `clusters` with those that only faces of one photo keep apart merged, one face of each such pair left
    /// out alone (the type's discussion). Deterministic, as the merges before it; each merge costs the pairs
    /// of the two clusters' faces.
    private func joinedAcrossPhotos(_ clusters: [[Int]], _ input: Input) -> [[Int]] {
        let n = input.count
        var members: [[Int]?] = clusters.map { $0 }
        var clusterOf = [Int](repeating: -1, count: n)
        for (number, cluster) in clusters.enumerated() { for item in cluster { clusterOf[item] = number } }
        var pinnedItem = [Bool](repeating: false, count: n)
        for index in input.pinnedGroups where input.groups.indices.contains(index) {
            for item in input.groups[index] where item >= 0 && item < n { pinnedItem[item] = true }
        }
        var neighbours = [[(item: Int, similarity: Double)]](repeating: [], count: n)
        for pair in input.pairs where pair.a != pair.b && pair.a >= 0 && pair.b >= 0 && pair.a < n && pair.b < n {
            neighbours[pair.a].append((pair.b, pair.similarity))
            neighbours[pair.b].append((pair.a, pair.similarity))
        }
        var apart = [[Int]](repeating: [], count: n)
        for (p, q) in input.cannotLink where p >= 0 && q >= 0 && p < n && q < n && p != q {
            apart[p].append(q)
            apart[q].append(p)
        }
        var onePhoto = [[Int]](repeating: [], count: n)
        for (p, q) in input.samePhoto where p >= 0 && q >= 0 && p < n && q < n && p != q {
            onePhoto[p].append(q)
            onePhoto[q].append(p)
        }
        var version = [Int](repeating: 0, count: members.count)

        /// The pairs of faces of one photo between `x` and `y`, or `nil` when anything else keeps them apart.
        func photoPairs(_ x: Int, _ y: Int) -> [(Int, Int)]? {
            guard let a = members[x], let b = members[y] else { return nil }
            guard !(a.contains { pinnedItem[$0] } && b.contains { pinnedItem[$0] }) else { return nil }
            var found: [(Int, Int)] = []
            for item in a {
                if apart[item].contains(where: { clusterOf[$0] == y }) { return nil }
                for other in onePhoto[item] where clusterOf[other] == y { found.append((item, other)) }
            }
            return found
        }
        /// The mean similarity between `x`'s and `y`'s faces other than `left`, under the main rule's conditions.
        func link(_ x: Int, _ y: Int, without left: Set<Int>) -> Double? {
            let a = (members[x] ?? []).filter { !left.contains($0) }, b = (members[y] ?? []).filter { !left.contains($0) }
            guard !a.isEmpty, !b.isEmpty else { return nil }
            var sum = 0.0, count = 0
            for item in a {
                for neighbour in neighbours[item] where clusterOf[neighbour.item] == y && !left.contains(neighbour.item) {
                    sum += neighbour.similarity
                    count += 1
                }
            }
            return merging(sum: sum, count: count, sizes: (a.count, b.count))
        }
        func candidate(_ x: Int, _ y: Int) -> Candidate? {
            let (first, second) = x < y ? (x, y) : (y, x)
            guard let pairs = photoPairs(first, second), !pairs.isEmpty else { return nil }
            let smaller = min(members[first]?.count ?? 0, members[second]?.count ?? 0)
            guard pairs.count <= max(1, smaller / 4) else { return nil }
            guard let mean = link(first, second, without: Set(pairs.flatMap { [$0.0, $0.1] })) else { return nil }
            return Candidate(link: mean, first: first, second: second, firstVersion: version[first], secondVersion: version[second])
        }
        func partners(of cluster: Int) -> [Int] {
            Array(Set((members[cluster] ?? []).flatMap { onePhoto[$0].map { clusterOf[$0] } }).subtracting([cluster])).sorted()
        }

        var heap = Heap<Candidate>()
        for x in members.indices { for y in partners(of: x) where x < y { if let next = candidate(x, y) { heap.insert(next) } } }
        while let best = heap.popMin() {
            guard members[best.first] != nil, members[best.second] != nil,
                  version[best.first] == best.firstVersion, version[best.second] == best.secondVersion,
                  let pairs = photoPairs(best.first, best.second)
            else { continue }
            let (keep, gone) = (best.first, best.second)
            let merged = (members[keep] ?? []) + (members[gone] ?? [])
            let core = Set(merged).subtracting(pairs.flatMap { [$0.0, $0.1] })
            func affinity(_ item: Int) -> Double {
                let linked = neighbours[item].filter { core.contains($0.item) }
                return linked.isEmpty ? 0 : linked.map(\.similarity).reduce(0, +) / Double(linked.count)
            }
            // Of each pair, the face less like the rest leaves (never one a user confirmed; ties: the larger item).
            var leaving = Set<Int>()
            for (p, q) in pairs where !leaving.contains(p) && !leaving.contains(q) {
                if pinnedItem[p] != pinnedItem[q] {
                    leaving.insert(pinnedItem[p] ? q : p)
                } else {
                    let (ap, aq) = (affinity(p), affinity(q))
                    leaving.insert(ap != aq ? (ap < aq ? p : q) : max(p, q))
                }
            }
            members[keep] = merged.filter { !leaving.contains($0) }.sorted()
            members[gone] = nil
            for item in members[keep] ?? [] { clusterOf[item] = keep }
            version[keep] += 1
            for item in leaving.sorted() {
                clusterOf[item] = members.count
                members.append([item])
                version.append(0)
            }
            for other in partners(of: keep) { if let next = candidate(keep, other) { heap.insert(next) } }
        }
        return members.compactMap { $0 }.sorted { $0[0] < $1[0] }
    }
}

/// A binary min-heap.
struct Heap<Element: Comparable> {
    private var elements: [Element] = []

    var isEmpty: Bool { elements.isEmpty }

    mutating func insert(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child] < elements[parent] else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Element? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let minimum = elements.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < elements.count, elements[left] < elements[smallest] { smallest = left }
            if right < elements.count, elements[right] < elements[smallest] { smallest = right }
            guard smallest != parent else { break }
            elements.swapAt(parent, smallest)
            parent = smallest
        }
        return minimum
    }
}
