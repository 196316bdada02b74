/// Where ``Consolidation`` reads how similar faces are.
///
/// - An index that holds the faces' vectors (the local engine, the in-memory index) answers exactly: every
///   neighbour above a threshold, every pair of a set. Then the people re-derived from it depend on the faces
///   alone, never on the order they arrived in.
/// - Otherwise (Rekognition keeps its vectors to itself) ``StoredFaceGraph`` answers from the edges the
///   pipeline's face searches left in the ``MetadataStore``: no extra calls, but only the pairs a search
///   returned.
public protocol FaceSimilaritySource: Sendable {
    /// Every edge at or above `threshold` (0…100) from any of `faces` to any other face.
    func neighbours(of faces: [FaceID], atLeast threshold: Double) async throws -> [FaceEdge]

    /// The similarities this source knows among `faces` (every pair, for a source with vectors).
    func similarities(among faces: [FaceID]) async throws -> [FaceEdge]

    /// Whether ``similarities(among:)`` gives every pair (average linkage then runs dense).
    var isComplete: Bool { get }
}

/// The face graph stored by the pipeline (``MetadataStore/edges(touching:)``), as a similarity source.
public struct StoredFaceGraph: FaceSimilaritySource {
    public let metadata: any MetadataStore

    public init(metadata: any MetadataStore) { self.metadata = metadata }

    public var isComplete: Bool { false }

    public func neighbours(of faces: [FaceID], atLeast threshold: Double) async throws -> [FaceEdge] {
        try await metadata.edges(touching: faces).filter { $0.similarity >= threshold }
    }

    public func similarities(among faces: [FaceID]) async throws -> [FaceEdge] {
        let members = Set(faces)
        return try await metadata.edges(touching: faces).filter { members.contains($0.a) && members.contains($0.b) }
    }
}

extension InMemoryFaceIndex: FaceSimilaritySource {
    public nonisolated var isComplete: Bool { true }

    public func neighbours(of faces: [FaceID], atLeast threshold: Double) -> [FaceEdge] {
        var found = Set<FaceEdge>()
        for id in faces {
            for match in (try? searchFaces(matching: id, options: SearchOptions(threshold: threshold, maxMatches: Int.max))) ?? [] {
                found.insert(FaceEdge(id, match.faceID, similarity: match.similarity))
            }
        }
        return found.sorted { ($0.a, $0.b) < ($1.a, $1.b) }
    }

    public func similarities(among faces: [FaceID]) -> [FaceEdge] {
        let known = Array(Set(faces)).sorted().compactMap { id in embedding(of: id).map { (id, $0) } }
        var edges: [FaceEdge] = []
        for i in known.indices {
            for j in known.indices where j > i {
                edges.append(FaceEdge(known[i].0, known[j].0, similarity: Self.similarity(known[i].1, known[j].1)))
            }
        }
        return edges
    }
}
