/// Photos, people and appearances (an appearance is also the face → person mapping), with the conditional
/// writes that make ingestion idempotent and safe under concurrency, and keyset pagination.
///
/// Every method is safe to call concurrently from many workers. Implementations: DynamoDB, SQLite,
/// ``InMemoryMetadataStore``. Key design and access patterns: `Docs/architecture.md`.
public protocol MetadataStore: Sendable {
    // MARK: Photos

    /// The photo record, or `nil`.
    func photo(_ id: PhotoID) async throws -> Photo?

    /// Writes `photo` if the stored record's revision equals `expectedRevision` (`nil`: only if there is no
    /// record) and returns it as stored, with its revision incremented. Otherwise throws
    /// ``MetadataStoreError/conditionFailed``: someone else wrote first; read again and decide again.
    @discardableResult
    func savePhoto(_ photo: Photo, expectedRevision: Int?) async throws -> Photo

    /// The records of these photos, for those that have one (one batched read).
    func photos(_ ids: [PhotoID]) async throws -> [PhotoID: Photo]

    /// Photos, optionally only those with one status, ordered by id.
    func photos(withStatus status: PhotoStatus.Kind?, page: PageRequest) async throws -> Page<Photo>

    // MARK: Appearances (the face → person mapping)

    /// Records `appearance` unless its face already has one. When `newPerson` is given and no such person
    /// exists, it is created in the same atomic write; the person's counts and cover follow. The target
    /// person is resolved through merges. Returns the appearance as stored: the existing one when the face was
    /// already recorded (a retry), which callers must then keep.
    /// Throws ``MetadataStoreError/personNotFound(_:)`` when the person is gone and `newPerson` is `nil`.
    @discardableResult
    func addAppearance(_ appearance: Appearance, newPerson: Person?) async throws -> AppearanceWrite

    /// Removes the appearance of `faceID` (a no-op returning `nil` when there is none). The person's counts
    /// drop, the cover moves to another face, and a person left with no face is deleted.
    @discardableResult
    func removeAppearance(of faceID: FaceID) async throws -> Appearance?

    /// The appearances of these faces, for the faces that have one.
    func appearances(ofFaces faceIDs: [FaceID]) async throws -> [FaceID: Appearance]

    /// Every appearance in one photo (at most the faces of one photo: no pagination).
    func appearances(inPhoto photoID: PhotoID) async throws -> [Appearance]

    /// A person's appearances, newest photo first (``Appearance/photoAddedAt`` descending, then face id).
    func appearances(ofPerson personID: PersonID, page: PageRequest) async throws -> Page<Appearance>

    // MARK: People

    /// The person, following merges (a merged-away id answers with the person it was merged into); `nil`
    /// when there is no such person.
    func person(_ id: PersonID) async throws -> Person?

    /// People with the most photos first (then by id).
    func people(page: PageRequest) async throws -> Page<Person>

    /// Sets or clears a person's name. Throws ``MetadataStoreError/personNotFound(_:)``.
    func renamePerson(_ id: PersonID, to name: String?) async throws -> Person

    /// Moves every appearance of `source` to `target`, recomputes the counts, deletes `source` and leaves a
    /// redirect so the old id keeps resolving. Both ids are resolved through earlier merges first; when they
    /// resolve to the same person nothing changes (idempotent). With `requireDisjointPhotos`, refuses with
    /// ``MetadataStoreError/peopleShareAPhoto(_:_:)`` when both appear in one photo (two faces of one photo are
    /// never one person unless a user says so). Returns the merged person.
    func mergePeople(_ source: PersonID, into target: PersonID, requireDisjointPhotos: Bool) async throws -> Person

    /// Moves the appearance of `faceID` to `personID`. With `newPerson`, a person of that exact id is created
    /// unless one exists (a merged-away id of that name stops redirecting); without, the id is resolved
    /// through merges. Both people's
    /// counts and covers follow, and the person left with no face is deleted. Returns the appearance as now
    /// stored; `nil` when the face has none. Moving a face where it already is changes nothing.
    /// Throws ``MetadataStoreError/personNotFound(_:)`` when the target is gone and `newPerson` is `nil`.
    @discardableResult
    func moveAppearance(of faceID: FaceID, to personID: PersonID, newPerson: Person?) async throws -> Appearance?

    /// Writes a person's name, pin, creation date and cover (when the cover face is theirs); counts stay as
    /// the appearances make them. Resolves merges. Throws ``MetadataStoreError/personNotFound(_:)``.
    @discardableResult
    func updatePerson(_ person: Person) async throws -> Person

    // MARK: Constraints

    /// Records a user's "not this person" between the faces of each pair (idempotent).
    func recordCannotLinks(_ pairs: [FacePair]) async throws

    /// Every recorded pair with a face in `faceIDs`.
    func cannotLinks(touching faceIDs: [FaceID]) async throws -> [FacePair]

    /// Forgets these pairs (an undo).
    func removeCannotLinks(_ pairs: [FacePair]) async throws

    // MARK: Journal

    /// Writes the operation (replacing the one with its id).
    func saveOperation(_ operation: PeopleOperation) async throws

    /// The operation with this id, or `nil`.
    func operation(_ id: String) async throws -> PeopleOperation?

    /// Operations, newest first.
    func operations(page: PageRequest) async throws -> Page<PeopleOperation>

    // MARK: Face graph

    /// Stores the edges; an edge stored again takes the new similarity (a face service reports the same
    /// similarity both ways), an edge from a face to itself is ignored. Idempotent.
    func recordEdges(_ edges: [FaceEdge]) async throws

    /// Every stored edge with at least one end in `faceIDs`.
    func edges(touching faceIDs: [FaceID]) async throws -> [FaceEdge]

    /// Removes every edge with an end in `faceIDs` (those faces left the index).
    func removeEdges(touching faceIDs: [FaceID]) async throws

    // MARK: Repair

    /// Recomputes a person's counts and cover from their appearances (and the store's own bookkeeping, such as
    /// DynamoDB's person–photo counters), and deletes a person who has none. For ``LibraryRepair``: after a
    /// crash or a bug, the stored counts are made true again. Resolves merges. Returns the person as now
    /// stored, `nil` when there is none (or it was just deleted). Idempotent.
    @discardableResult
    func recountPerson(_ id: PersonID) async throws -> Person?

    // MARK: Pending matches (concurrent ingestion)

    /// Notes that a face of ``PendingMatch/matchedBy`` matched ``PendingMatch/face`` while that face had no
    /// person yet (another worker was still processing it). The worker that later records the face reads
    /// this and merges duplicates. Recording the same match twice stores it once.
    func recordPendingMatch(_ match: PendingMatch) async throws

    /// The matches recorded for `faceID` before it had a person.
    func pendingMatches(for faceID: FaceID) async throws -> [PendingMatch]
}

/// A match found while the matched face had no person yet: the trace one worker leaves for another so
/// that duplicates founded concurrently are merged.
public struct PendingMatch: Hashable, Sendable, Codable {
    /// The face that had no person yet.
    public var face: FaceID
    /// The person of the face that matched it.
    public var matchedBy: PersonID
    /// Whether that face founded ``matchedBy`` (rather than joining an existing person).
    public var matcherFoundedPerson: Bool

    public init(face: FaceID, matchedBy: PersonID, matcherFoundedPerson: Bool) {
        self.face = face
        self.matchedBy = matchedBy
        self.matcherFoundedPerson = matcherFoundedPerson
    }
}

/// The outcome of ``MetadataStore/addAppearance(_:newPerson:)``.
public enum AppearanceWrite: Hashable, Sendable {
    /// Recorded now.
    case added(Appearance)
    /// The face already had this appearance (an earlier attempt recorded it); nothing changed.
    case alreadyRecorded(Appearance)

    public var appearance: Appearance {
        switch self {
        case .added(let appearance), .alreadyRecorded(let appearance): appearance
        }
    }
}

/// Failures of a ``MetadataStore``.
public enum MetadataStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A conditional write lost a race: read again and decide again.
    case conditionFailed
    case personNotFound(PersonID)
    case peopleShareAPhoto(PersonID, PersonID)
    /// The cursor was not issued for this listing (tampered, truncated, or from another query).
    case invalidCursor
    /// The store could not be reached; retrying may help.
    case unavailable(detail: String)

    public var description: String {
        switch self {
        case .conditionFailed: "a concurrent write changed the record first"
        case .personNotFound(let id): "no person \(id)"
        case .peopleShareAPhoto(let a, let b): "\(a) and \(b) appear in the same photo"
        case .invalidCursor: "the cursor does not belong to this listing"
        case .unavailable(let detail): "metadata store unavailable: \(detail)"
        }
    }
}
