/// An edge of the face graph: two faces a face search found similar, and how similar (0…100, the face
/// service's scale). Every search's matches at or above ``GroupingPolicy/reviewThreshold`` are kept as edges
/// (`MetadataStore.recordEdges`), so grouping can be re-derived later from all the evidence rather than from
/// the one match a face happened to see when it arrived. Undirected: stored with the smaller id first.
public struct FaceEdge: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The smaller of the two ids.
    public let a: FaceID
    /// The larger of the two ids.
    public let b: FaceID
    public let similarity: Double

    /// The edge between `x` and `y` (in either order).
    public init(_ x: FaceID, _ y: FaceID, similarity: Double) {
        (a, b) = x < y ? (x, y) : (y, x)
        self.similarity = similarity
    }

    /// The end of the edge that is not `face`.
    public func other(than face: FaceID) -> FaceID { face == a ? b : a }

    public var description: String { "\(a)–\(b) \(similarity)" }
}
