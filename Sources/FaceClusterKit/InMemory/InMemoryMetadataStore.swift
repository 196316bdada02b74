#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A ``MetadataStore`` in memory, for tests and demos. Every method runs atomically on the actor, which is
/// what the conditional writes of a real store guarantee per request. Counts are recomputed from the
/// appearances, so they are right by construction.
public actor InMemoryMetadataStore: MetadataStore {
    private var photoRecords: [PhotoID: Photo] = [:]
    private var appearanceRecords: [FaceID: Appearance] = [:]
    private var facesByPerson: [PersonID: Set<FaceID>] = [:]
    private var facesByPhoto: [PhotoID: Set<FaceID>] = [:]
    private var peopleRecords: [PersonID: Person] = [:]
    private var mergedInto: [PersonID: PersonID] = [:]
    private var pending: [FaceID: Set<PendingMatch>] = [:]
    private var edgesByFace: [FaceID: [FaceID: Double]] = [:]
    private var cannotLinkPairs = Set<FacePair>()
    private var journal: [String: PeopleOperation] = [:]
    /// The journal's ids, ascending.
    private var journalOrder: [String] = []
    private let clock: any WallClock

    public init(clock: any WallClock = SystemWallClock()) { self.clock = clock }

    // MARK: Photos

    public func photo(_ id: PhotoID) -> Photo? { photoRecords[id] }

    @discardableResult
    public func savePhoto(_ photo: Photo, expectedRevision: Int?) throws -> Photo {
        guard photoRecords[photo.id]?.revision == expectedRevision else { throw MetadataStoreError.conditionFailed }
        var stored = photo
        stored.revision = (expectedRevision ?? 0) + 1
        photoRecords[photo.id] = stored
        return stored
    }

    public func photos(_ ids: [PhotoID]) -> [PhotoID: Photo] {
        ids.reduce(into: [:]) { result, id in result[id] = photoRecords[id] }
    }

    public func photos(withStatus status: PhotoStatus.Kind?, page: PageRequest) throws -> Page<Photo> {
        let query = "photos:" + (status?.rawValue ?? "*")
        let after = try page.cursor.map { try $0.position(for: query) }?.first
        let matching = photoRecords.values
            .filter { photo in status.map { photo.status.kind == $0 } ?? true }
            .filter { photo in after.map { photo.id.rawValue > $0 } ?? true }
            .sorted { $0.id < $1.id }
        return Self.page(of: matching, limit: page.limit) { PageCursor(query: query, position: [$0.id.rawValue]) }
    }

    // MARK: Appearances

    @discardableResult
    public func addAppearance(_ appearance: Appearance, newPerson: Person?) throws -> AppearanceWrite {
        if let existing = appearanceRecords[appearance.faceID] { return .alreadyRecorded(existing) }
        let personID = resolve(appearance.personID)
        if peopleRecords[personID] == nil {
            guard var person = newPerson, resolve(person.id) == personID else {
                throw MetadataStoreError.personNotFound(appearance.personID)
            }
            person.id = personID
            peopleRecords[personID] = person
        }
        var stored = appearance
        stored.personID = personID
        appearanceRecords[stored.faceID] = stored
        facesByPerson[personID, default: []].insert(stored.faceID)
        facesByPhoto[stored.photoID, default: []].insert(stored.faceID)
        if peopleRecords[personID]?.coverFaceID == nil {
            peopleRecords[personID]?.coverFaceID = stored.faceID
            peopleRecords[personID]?.coverThumbnailKey = stored.thumbnailKey
        }
        recount(personID)
        return .added(stored)
    }

    @discardableResult
    public func removeAppearance(of faceID: FaceID) -> Appearance? {
        guard let appearance = appearanceRecords.removeValue(forKey: faceID) else { return nil }
        facesByPerson[appearance.personID]?.remove(faceID)
        facesByPhoto[appearance.photoID]?.remove(faceID)
        if facesByPhoto[appearance.photoID]?.isEmpty == true { facesByPhoto[appearance.photoID] = nil }
        let personID = appearance.personID
        if facesByPerson[personID]?.isEmpty ?? true {
            facesByPerson[personID] = nil
            peopleRecords[personID] = nil
        } else {
            if peopleRecords[personID]?.coverFaceID == faceID, let next = facesByPerson[personID]?.min() {
                peopleRecords[personID]?.coverFaceID = next
                peopleRecords[personID]?.coverThumbnailKey = appearanceRecords[next]?.thumbnailKey
            }
            recount(personID)
        }
        pending[faceID] = nil
        return appearance
    }

    public func appearances(ofFaces faceIDs: [FaceID]) -> [FaceID: Appearance] {
        faceIDs.reduce(into: [:]) { result, id in result[id] = appearanceRecords[id] }
    }

    public func appearances(inPhoto photoID: PhotoID) -> [Appearance] {
        (facesByPhoto[photoID] ?? []).compactMap { appearanceRecords[$0] }.sorted { $0.faceID < $1.faceID }
    }

    public func appearances(ofPerson personID: PersonID, page: PageRequest) throws -> Page<Appearance> {
        let query = "person-photos:" + personID.rawValue
        let position = try page.cursor.map { try $0.position(for: query) }
        let after = try position.map { position -> (Double, String) in
            guard position.count == 2, let time = Double(position[0]) else { throw MetadataStoreError.invalidCursor }
            return (time, position[1])
        }
        let ordered = (facesByPerson[resolve(personID)] ?? [])
            .compactMap { appearanceRecords[$0] }
            .filter { appearance in
                guard let (time, face) = after else { return true }
                let own = appearance.photoAddedAt.timeIntervalSince1970
                return own < time || (own == time && appearance.faceID.rawValue > face)
            }
            .sorted {
                $0.photoAddedAt != $1.photoAddedAt ? $0.photoAddedAt > $1.photoAddedAt : $0.faceID < $1.faceID
            }
        return Self.page(of: ordered, limit: page.limit) {
            PageCursor(query: query, position: [String($0.photoAddedAt.timeIntervalSince1970), $0.faceID.rawValue])
        }
    }

    // MARK: People

    public func person(_ id: PersonID) -> Person? { peopleRecords[resolve(id)] }

    public func people(page: PageRequest) throws -> Page<Person> {
        let query = "people"
        let position = try page.cursor.map { try $0.position(for: query) }
        let after = try position.map { position -> (Int, String) in
            guard position.count == 2, let count = Int(position[0]) else { throw MetadataStoreError.invalidCursor }
            return (count, position[1])
        }
        let ordered = peopleRecords.values
            .filter { person in
                guard let (count, id) = after else { return true }
                return person.photoCount < count || (person.photoCount == count && person.id.rawValue > id)
            }
            .sorted { $0.photoCount != $1.photoCount ? $0.photoCount > $1.photoCount : $0.id < $1.id }
        return Self.page(of: ordered, limit: page.limit) {
            PageCursor(query: query, position: [String($0.photoCount), $0.id.rawValue])
        }
    }

    public func renamePerson(_ id: PersonID, to name: String?) throws -> Person {
        let resolved = resolve(id)
        guard var person = peopleRecords[resolved] else { throw MetadataStoreError.personNotFound(id) }
        person.name = name
        person.updatedAt = clock.now()
        peopleRecords[resolved] = person
        return person
    }

    public func mergePeople(_ source: PersonID, into target: PersonID, requireDisjointPhotos: Bool) throws -> Person {
        let from = resolve(source), into = resolve(target)
        guard let sourcePerson = peopleRecords[from] else { throw MetadataStoreError.personNotFound(source) }
        guard var targetPerson = peopleRecords[into] else { throw MetadataStoreError.personNotFound(target) }
        if from == into { return targetPerson }
        let movingFaces = facesByPerson[from] ?? []
        if requireDisjointPhotos {
            let targetPhotos = Set((facesByPerson[into] ?? []).compactMap { appearanceRecords[$0]?.photoID })
            if movingFaces.contains(where: { appearanceRecords[$0].map { targetPhotos.contains($0.photoID) } ?? false }) {
                throw MetadataStoreError.peopleShareAPhoto(from, into)
            }
        }
        for face in movingFaces { appearanceRecords[face]?.personID = into }
        facesByPerson[into, default: []].formUnion(movingFaces)
        facesByPerson[from] = nil
        targetPerson.name = targetPerson.name ?? sourcePerson.name
        targetPerson.pinned = targetPerson.pinned || sourcePerson.pinned
        targetPerson.createdAt = min(targetPerson.createdAt, sourcePerson.createdAt)
        targetPerson.updatedAt = clock.now()
        peopleRecords[into] = targetPerson
        peopleRecords[from] = nil
        mergedInto[from] = into
        recount(into)
        return peopleRecords[into]!
    }

    @discardableResult
    public func moveAppearance(of faceID: FaceID, to personID: PersonID, newPerson: Person?) throws -> Appearance? {
        guard var appearance = appearanceRecords[faceID] else { return nil }
        if var person = newPerson, peopleRecords[personID] == nil {
            mergedInto[personID] = nil
            person.id = personID
            person.photoCount = 0
            person.faceCount = 0
            person.coverFaceID = nil
            person.coverThumbnailKey = nil
            peopleRecords[personID] = person
        }
        let target = resolve(personID)
        guard peopleRecords[target] != nil else { throw MetadataStoreError.personNotFound(personID) }
        if appearance.personID == target { return appearance }
        let source = appearance.personID
        facesByPerson[source]?.remove(faceID)
        appearance.personID = target
        appearanceRecords[faceID] = appearance
        facesByPerson[target, default: []].insert(faceID)
        if peopleRecords[target]?.coverFaceID == nil {
            peopleRecords[target]?.coverFaceID = faceID
            peopleRecords[target]?.coverThumbnailKey = appearance.thumbnailKey
        }
        recount(target)
        if facesByPerson[source]?.isEmpty ?? true {
            facesByPerson[source] = nil
            peopleRecords[source] = nil
        } else {
            if peopleRecords[source]?.coverFaceID == faceID, let next = facesByPerson[source]?.min() {
                peopleRecords[source]?.coverFaceID = next
                peopleRecords[source]?.coverThumbnailKey = appearanceRecords[next]?.thumbnailKey
            }
            recount(source)
        }
        return appearance
    }

    @discardableResult
    public func updatePerson(_ person: Person) throws -> Person {
        let resolved = resolve(person.id)
        guard var stored = peopleRecords[resolved] else { throw MetadataStoreError.personNotFound(person.id) }
        stored.name = person.name
        stored.pinned = person.pinned
        stored.createdAt = person.createdAt
        stored.updatedAt = clock.now()
        if let cover = person.coverFaceID, facesByPerson[resolved]?.contains(cover) == true {
            stored.coverFaceID = cover
            stored.coverThumbnailKey = appearanceRecords[cover]?.thumbnailKey
        }
        peopleRecords[resolved] = stored
        return stored
    }

    // MARK: Constraints

    public func recordCannotLinks(_ pairs: [FacePair]) { cannotLinkPairs.formUnion(pairs.filter { $0.a != $0.b }) }

    public func cannotLinks(touching faceIDs: [FaceID]) -> [FacePair] {
        let faces = Set(faceIDs)
        return cannotLinkPairs.filter { faces.contains($0.a) || faces.contains($0.b) }.sorted()
    }

    public func removeCannotLinks(_ pairs: [FacePair]) { cannotLinkPairs.subtract(pairs) }

    // MARK: Journal

    public func saveOperation(_ operation: PeopleOperation) {
        if journal.updateValue(operation, forKey: operation.id) == nil {
            journalOrder.insert(operation.id, at: journalOrder.partitioningIndex { $0 > operation.id })
        }
    }

    public func operation(_ id: String) -> PeopleOperation? { journal[id] }

    public func operations(page: PageRequest) throws -> Page<PeopleOperation> {
        let query = "operations"
        let before = try page.cursor.map { try $0.position(for: query) }?.first
        let end = before.map { id in journalOrder.partitioningIndex { $0 >= id } } ?? journalOrder.count
        let ids = journalOrder[..<end].suffix(page.limit + 1).reversed()
        return Self.page(of: ids.compactMap { journal[$0] }, limit: page.limit) { PageCursor(query: query, position: [$0.id]) }
    }

    // MARK: Face graph

    public func recordEdges(_ edges: [FaceEdge]) {
        for edge in edges where edge.a != edge.b {
            edgesByFace[edge.a, default: [:]][edge.b] = edge.similarity
            edgesByFace[edge.b, default: [:]][edge.a] = edge.similarity
        }
    }

    public func edges(touching faceIDs: [FaceID]) -> [FaceEdge] {
        var found = Set<FaceEdge>()
        for face in Set(faceIDs) {
            for (other, similarity) in edgesByFace[face] ?? [:] { found.insert(FaceEdge(face, other, similarity: similarity)) }
        }
        return found.sorted { ($0.a, $0.b) < ($1.a, $1.b) }
    }

    public func removeEdges(touching faceIDs: [FaceID]) {
        for face in Set(faceIDs) {
            for other in (edgesByFace.removeValue(forKey: face) ?? [:]).keys {
                edgesByFace[other]?[face] = nil
                if edgesByFace[other]?.isEmpty == true { edgesByFace[other] = nil }
            }
        }
    }

    // MARK: Repair

    @discardableResult
    public func recountPerson(_ id: PersonID) -> Person? {
        let resolved = resolve(id)
        guard peopleRecords[resolved] != nil else { return nil }
        let faces = (facesByPerson[resolved] ?? []).filter { appearanceRecords[$0]?.personID == resolved }
        guard let first = faces.min() else {
            facesByPerson[resolved] = nil
            peopleRecords[resolved] = nil
            return nil
        }
        facesByPerson[resolved] = faces
        if let cover = peopleRecords[resolved]?.coverFaceID, faces.contains(cover) {} else {
            peopleRecords[resolved]?.coverFaceID = first
            peopleRecords[resolved]?.coverThumbnailKey = appearanceRecords[first]?.thumbnailKey
        }
        recount(resolved)
        return peopleRecords[resolved]
    }

    // MARK: Pending matches

    public func recordPendingMatch(_ match: PendingMatch) {
        pending[match.face, default: []].insert(match)
    }

    public func pendingMatches(for faceID: FaceID) -> [PendingMatch] {
        (pending[faceID] ?? []).sorted { $0.matchedBy != $1.matchedBy ? $0.matchedBy < $1.matchedBy : !$0.matcherFoundedPerson }
    }

    // MARK: Helpers

    private func resolve(_ id: PersonID) -> PersonID {
        var current = id
        var hops = 0
        while let next = mergedInto[current], hops < 10_000 {
            current = next
            hops += 1
        }
        return current
    }

    private func recount(_ personID: PersonID) {
        let faces = facesByPerson[personID] ?? []
        peopleRecords[personID]?.faceCount = faces.count
        peopleRecords[personID]?.photoCount = Set(faces.compactMap { appearanceRecords[$0]?.photoID }).count
    }

    private static func page<T: Sendable>(of ordered: [T], limit: Int, cursor: (T) -> PageCursor) -> Page<T> {
        let items = Array(ordered.prefix(limit))
        let next = ordered.count > items.count ? items.last.map(cursor) : nil
        return Page(items: items, nextCursor: next)
    }
}

extension Array {
    /// The first index whose element satisfies `belongs` (which must be false then true along the array).
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
