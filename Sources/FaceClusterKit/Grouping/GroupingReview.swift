/// What a user needs to review the grouping: people who may be one (merge suggestions), and why a face is
/// where it is (explanations).
public struct GroupingReview: Sendable {
    public let metadata: any MetadataStore
    public let source: any FaceSimilaritySource
    public let policy: GroupingPolicy
    /// Named in explanations (`dlib ResNet v1 (local engine)`, `Amazon Rekognition`).
    public var model: String

    public init(metadata: any MetadataStore, source: any FaceSimilaritySource, policy: GroupingPolicy, model: String) {
        self.metadata = metadata
        self.source = source
        self.policy = policy
        self.model = model
    }

    /// The review of `pipeline`'s library (its index as the similarity source when it holds the vectors).
    public init(pipeline: IngestionPipeline, model: String) {
        let consolidation = Consolidation(pipeline: pipeline)
        self.init(metadata: pipeline.metadata, source: consolidation.source, policy: pipeline.configuration.policy, model: model)
    }

    /// Two people who may be one.
    public struct Suggestion: Sendable, Hashable, Codable {
        /// The person who would stay: the one a user confirmed, else the one with more faces, else the older.
        public var first: Person
        /// The person who would be merged into ``first``.
        public var second: Person
        /// The mean similarity of their faces' pairs (observed pairs, for a sparse source).
        public var similarity: Double
        /// Pairs of faces behind it.
        public var pairs: Int
        /// Why they were not merged on their own.
        public var reason: String
    }

    /// Pairs of people whose faces' mean similarity lies in the review band — at least
    /// ``GroupingPolicy/reviewThreshold``, under the join threshold — or above it but kept apart by a user
    /// (both confirmed, or a "not this person" between them), best first.
    /// Cost: every person's faces, their neighbours above the review threshold, and the similarities of each
    /// candidate pair's faces.
    public func suggestions(limit: Int = 20) async throws -> [Suggestion] {
        let people = try await Page.all(pageSize: 500) { try await metadata.people(page: $0) }
        var faces: [PersonID: [FaceID]] = [:]
        var owner: [FaceID: PersonID] = [:]
        for person in people {
            let own = try await Page.all(pageSize: 500) { try await metadata.appearances(ofPerson: person.id, page: $0) }.map(\.faceID)
            faces[person.id] = own
            for face in own { owner[face] = person.id }
        }
        var candidates = Set<[PersonID]>()
        for edge in try await source.neighbours(of: Array(owner.keys), atLeast: policy.reviewThreshold) {
            guard let p = owner[edge.a], let q = owner[edge.b], p != q else { continue }
            candidates.insert([p, q].sorted())
        }
        let byID = Dictionary(uniqueKeysWithValues: people.map { ($0.id, $0) })
        var suggestions: [Suggestion] = []
        for pair in candidates.sorted(by: { $0[0] != $1[0] ? $0[0] < $1[0] : $0[1] < $1[1] }) {
            guard let first = byID[pair[0]], let second = byID[pair[1]] else { continue }
            let left = Set(faces[first.id] ?? []), right = Set(faces[second.id] ?? [])
            let cross = try await source.similarities(among: Array(left.union(right))).filter {
                (left.contains($0.a) && right.contains($0.b)) || (left.contains($0.b) && right.contains($0.a))
            }
            guard !cross.isEmpty else { continue }
            let mean = cross.map(\.similarity).reduce(0, +) / Double(cross.count)
            guard mean >= policy.reviewThreshold else { continue }
            let blocked = try await metadata.cannotLinks(touching: Array(left)).contains { right.contains($0.a) || right.contains($0.b) }
            let reason: String
            if blocked {
                reason = "a user said a face of one is not the other"
            } else if first.isConfirmed && second.isConfirmed {
                reason = "both were confirmed by a user; only a user merges them"
            } else if mean < policy.faceMatchThreshold {
                // Rounded down: a mean just under the threshold never reads as the threshold itself ("90.0 … under 90.0").
                reason = "their faces are \(Self.oneDecimal(mean, rounding: .down)) similar on average, under the \(Self.oneDecimal(policy.faceMatchThreshold)) needed to merge on their own"
            } else {
                continue  // Consolidation merges them on its own (or a shared photo keeps them apart).
            }
            let firstStays = first.isConfirmed != second.isConfirmed ? first.isConfirmed
                : first.faceCount != second.faceCount ? first.faceCount > second.faceCount : first.precedes(second)
            let (stays, goes) = firstStays ? (first, second) : (second, first)
            suggestions.append(Suggestion(first: stays, second: goes, similarity: mean, pairs: cross.count, reason: reason))
        }
        return Array(suggestions.sorted { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.first.id < $1.first.id }.prefix(limit))
    }

    static func oneDecimal(_ value: Double, rounding rule: FloatingPointRoundingRule = .toNearestOrAwayFromZero) -> String {
        let tenths = Int((value * 10).rounded(rule))
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// Why a face is with its person.
    public struct Explanation: Sendable, Hashable, Codable {
        public struct Neighbour: Sendable, Hashable, Codable {
            public var face: FaceID
            public var person: PersonID?
            public var similarity: Double
        }

        public var face: FaceID
        public var person: Person
        public var photo: PhotoID
        /// The faces most similar to it, with their people.
        public var neighbours: [Neighbour]
        /// The mean similarity to the other faces of its person (nil when it is alone), and the best mean to
        /// another person.
        public var ownPersonSimilarity: Double?
        public var closestOtherPerson: PersonID?
        public var closestOtherSimilarity: Double?
        /// The people among its neighbours' (other than its own) that have a face of the same photo, most
        /// similar first: the same-photo rule keeps it from joining them, however alike they are (a photo showing
        /// someone twice, in a mirror or a collage).
        public var heldApartBySamePhoto: [PersonID] = []
        public var joinThreshold: Double
        public var singleFaceThreshold: Double
        public var reviewThreshold: Double
        public var rule: String
        public var model: String
        /// Journal operations (newest first, among the latest 200) that moved this face.
        public var operations: [String]
    }

    /// The matches, similarities, thresholds, rule and model that put `face` where it is.
    public func explain(_ face: FaceID) async throws -> Explanation {
        guard let appearance = try await metadata.appearances(ofFaces: [face])[face], let person = try await metadata.person(appearance.personID)
        else { throw GalleryError.faceNotFound(face) }
        let edges = try await source.neighbours(of: [face], atLeast: policy.reviewThreshold).sorted { $0.similarity > $1.similarity }
        let neighbourFaces = edges.prefix(12).map { $0.other(than: face) }
        let owners = try await metadata.appearances(ofFaces: neighbourFaces)
        var byPerson: [PersonID: [Double]] = [:]
        let own = try await Page.all(pageSize: 500) { try await metadata.appearances(ofPerson: person.id, page: $0) }.map(\.faceID).filter { $0 != face }
        let ownSimilarities = try await source.similarities(among: own + [face]).filter { $0.a == face || $0.b == face }.map(\.similarity)
        for edge in edges {
            guard let other = owners[edge.other(than: face)]?.personID, other != person.id else { continue }
            byPerson[other, default: []].append(edge.similarity)
        }
        let means = byPerson.map { ($0.key, $0.value.reduce(0, +) / Double($0.value.count)) }
        let closest = means.max { $0.1 < $1.1 }
        let samePhoto = Set(try await metadata.appearances(inPhoto: appearance.photoID).filter { $0.faceID != face }.map(\.personID))
        let heldApart = means.filter { samePhoto.contains($0.0) }.sorted { ($0.1, $1.0.rawValue) > ($1.1, $0.0.rawValue) }.map(\.0)
        let operations = try await metadata.operations(page: PageRequest(limit: 200)).items.filter { $0.movedFaces.contains(face) }.map(\.id)
        return Explanation(
            face: face, person: person, photo: appearance.photoID,
            neighbours: edges.prefix(12).map { Explanation.Neighbour(face: $0.other(than: face), person: owners[$0.other(than: face)]?.personID, similarity: $0.similarity) },
            ownPersonSimilarity: ownSimilarities.isEmpty ? nil : ownSimilarities.reduce(0, +) / Double(ownSimilarities.count),
            closestOtherPerson: closest?.0, closestOtherSimilarity: closest?.1, heldApartBySamePhoto: heldApart,
            joinThreshold: policy.faceMatchThreshold, singleFaceThreshold: policy.singleFaceMatchThreshold, reviewThreshold: policy.reviewThreshold,
            rule: "average linkage: two groups of faces are one person when their faces' mean similarity is at least the join threshold "
                + "(two single faces: the single-face threshold); two faces of one photo, or a user's \"not this person\", never; "
                + "people a user confirmed keep their faces and are never merged on their own",
            model: model, operations: operations)
    }
}
