/// The searchable collection of faces (a Rekognition collection, the local engine's embedding index).
///
/// Two call plans use it (see `Docs/architecture.md`):
/// - *indexed*: ``indexFaces(in:externalImageID:options:)`` on the whole photo, then
///   ``searchFaces(matching:options:)`` per face — exactly 1 + N billed calls for N faces;
/// - *seed*: a ``FaceDetector`` first, then per face crop ``searchFaces(byImage:options:)`` and
///   ``indexFaces(in:externalImageID:options:)`` when nothing matched — 1 + N to 1 + 2N calls.
public protocol FaceIndex: Sendable {
    /// Detects the faces in `image` and adds them to the index under `externalImageID`.
    ///
    /// Idempotent: indexing the same image content under the same external id again returns the same face
    /// ids and stores nothing twice (what Rekognition does), so a retry after a crash creates no orphan faces.
    /// At most ``IndexOptions/maxFaces`` faces are indexed, largest first; the rest come back as unindexed.
    func indexFaces(in image: ImageInput, externalImageID: String, options: IndexOptions) async throws -> IndexedFaces

    /// Faces similar to the indexed face `faceID` (never itself), most similar first.
    func searchFaces(matching faceID: FaceID, options: SearchOptions) async throws -> [FaceMatch]

    /// Faces similar to the largest face in `image`, most similar first. An image with no face gives an
    /// empty result with ``ImageSearchResult/searchedFace`` `nil`.
    func searchFaces(byImage image: ImageInput, options: SearchOptions) async throws -> ImageSearchResult

    /// Removes faces from the index. Ids that are not (or no longer) indexed are ignored.
    func deleteFaces(_ faceIDs: [FaceID]) async throws
}

/// How faces are indexed.
public struct IndexOptions: Hashable, Sendable {
    /// The most faces indexed from one image (Rekognition indexes at most 100).
    public var maxFaces: Int
    /// Which low-quality faces the index itself refuses (Rekognition's `QualityFilter`).
    public var qualityFilter: QualityFilter

    public init(maxFaces: Int = 100, qualityFilter: QualityFilter = .auto) {
        self.maxFaces = maxFaces
        self.qualityFilter = qualityFilter
    }
}

/// Rekognition's quality filter levels. `none` indexes every detected face.
public enum QualityFilter: String, Hashable, Sendable, Codable {
    case none = "NONE", auto = "AUTO", low = "LOW", medium = "MEDIUM", high = "HIGH"
}

/// How faces are searched.
public struct SearchOptions: Hashable, Sendable {
    /// Lowest similarity (0…100) a match must have.
    public var threshold: Double
    /// The most matches returned.
    public var maxMatches: Int

    public init(threshold: Double, maxMatches: Int = 10) {
        self.threshold = threshold
        self.maxMatches = maxMatches
    }
}

/// The outcome of ``FaceIndex/indexFaces(in:externalImageID:options:)``.
public struct IndexedFaces: Sendable {
    public var indexed: [IndexedFace]
    public var unindexed: [UnindexedFace]

    public init(indexed: [IndexedFace], unindexed: [UnindexedFace]) {
        self.indexed = indexed
        self.unindexed = unindexed
    }
}

/// A face that is now in the index.
public struct IndexedFace: Hashable, Sendable {
    public var faceID: FaceID
    public var face: DetectedFace

    public init(faceID: FaceID, face: DetectedFace) {
        self.faceID = faceID
        self.face = face
    }
}

/// A face the index detected but refused, and why (Rekognition's `UnindexedFaces` reasons).
public struct UnindexedFace: Hashable, Sendable {
    public var face: DetectedFace
    public var reasons: [String]

    public init(face: DetectedFace, reasons: [String]) {
        self.face = face
        self.reasons = reasons
    }
}

/// A face in the index similar to the one searched for.
public struct FaceMatch: Hashable, Sendable, Codable {
    public var faceID: FaceID
    /// 0…100.
    public var similarity: Double
    /// The external id the matched face was indexed under (Rekognition returns it with every match).
    public var externalImageID: String?

    public init(faceID: FaceID, similarity: Double, externalImageID: String? = nil) {
        self.faceID = faceID
        self.similarity = similarity
        self.externalImageID = externalImageID
    }
}

/// The outcome of ``FaceIndex/searchFaces(byImage:options:)``.
public struct ImageSearchResult: Sendable {
    /// The face that was searched for (the largest in the image), `nil` when the image has none.
    public var searchedFace: BoundingBox?
    public var matches: [FaceMatch]

    public init(searchedFace: BoundingBox?, matches: [FaceMatch]) {
        self.searchedFace = searchedFace
        self.matches = matches
    }
}

/// A ``FaceIndex`` that also keeps one aggregated vector per person (Rekognition's *users*), for the
/// ``CallPlan/users`` plan: a new face is searched against people rather than against single faces.
///
/// A person's vector is built from the faces associated with it; Rekognition averages at most 100 of them.
public protocol PersonVectorIndex: FaceIndex {
    /// People whose vectors are similar to the indexed face `faceID`, most similar first.
    func searchPeople(matching faceID: FaceID, options: SearchOptions) async throws -> [PersonMatch]

    /// Adds indexed faces to `person`'s vector, creating the vector first when `creatingPerson` (or when it
    /// turns out not to exist). Idempotent: faces already associated with `person` are left as they are.
    /// Faces beyond the vector's capacity are not associated (the person keeps them; only the vector is full).
    func associate(_ faceIDs: [FaceID], with person: PersonID, creatingPerson: Bool) async throws

    /// Takes faces out of `person`'s vector (a user moved them to someone else). Faces not associated with it
    /// are ignored.
    func disassociate(_ faceIDs: [FaceID], from person: PersonID) async throws
}

/// A person whose vector is similar to the face searched for.
public struct PersonMatch: Hashable, Sendable {
    public var personID: PersonID
    /// 0…100.
    public var similarity: Double

    public init(personID: PersonID, similarity: Double) {
        self.personID = personID
        self.similarity = similarity
    }
}

/// A ``FaceIndex`` that can list the faces it holds (Rekognition's ListFaces), so ``LibraryRepair`` can find
/// faces that were indexed but never grouped (a crash between indexing and recording).
public protocol FaceListing: FaceIndex {
    /// Up to `limit` indexed faces after `continuationToken` (from the start when `nil`), in a stable order,
    /// and the token of the next page (`nil` after the last). Rekognition: one ListFaces request (≤ 4,096 faces).
    func listFaces(continuationToken: String?, limit: Int) async throws -> IndexedFaceListing
}

/// One page of ``FaceListing/listFaces(continuationToken:limit:)``.
public struct IndexedFaceListing: Sendable {
    public struct Entry: Hashable, Sendable {
        public var faceID: FaceID
        /// The external id the face was indexed under (the photo id, or `photoId:position` for the seed plan's crops).
        public var externalImageID: String?

        public init(faceID: FaceID, externalImageID: String?) {
            self.faceID = faceID
            self.externalImageID = externalImageID
        }
    }

    public var faces: [Entry]
    public var continuationToken: String?

    public init(faces: [Entry], continuationToken: String?) {
        self.faces = faces
        self.continuationToken = continuationToken
    }
}

extension FaceListing {
    /// Every indexed face, page after page.
    public func allFaces(pageSize: Int = 1000) async throws -> [IndexedFaceListing.Entry] {
        var entries: [IndexedFaceListing.Entry] = []
        var token: String?
        repeat {
            let page = try await listFaces(continuationToken: token, limit: pageSize)
            entries += page.faces
            token = page.continuationToken
        } while token != nil
        return entries
    }
}
