#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What clients ask of the grouped photos — who the people are, which photos each is in, short-lived URLs
/// to the images — and the people operations photo apps have: rename, merge, delete a photo, forget a person.
///
/// Listings are keyset-paginated: while ingestion writes, a listing never repeats an item and never skips
/// one that existed before it started and did not move (a person whose photo count changes moves in the
/// most-photos-first order).
public struct Gallery: Sendable {
    public let metadata: any MetadataStore
    public let photos: any PhotoStore
    public let thumbnails: any PhotoStore
    public let index: any FaceIndex
    public let clock: any WallClock
    /// People with fewer faces than this, unless a user confirmed them (named, merged into, moved a face to,
    /// made a person), are not listed as people: their faces are *unassigned* (``unassignedFaces(page:)``),
    /// strangers until more of their faces arrive. 1 lists everyone (the reference design).
    public var minimumFacesPerPerson: Int
    /// With the users call plan: the index whose person vectors follow a user's moves (and their undo).
    public var personVectors: (any PersonVectorIndex)?
    /// Regroups after ``undo(_:)`` reverses a user's merge or move: `faces` are the faces of the people it joined
    /// or moved between, now; faces whose photos were added since may have joined a person only because of it (see
    /// ``Consolidation/undoneMerge``). Called under ``storeLock``, after the undo and outside
    /// ``PeopleOperationLock``; the local library runs ``Consolidation`` on the components of those faces that
    /// gained faces since. `nil` (the default): the undo alone, and faces that joined since stay where they are.
    public var regroupAfterUndoneMerge: (@Sendable (_ faces: [FaceID], _ merge: Consolidation.UndoneMerge) async throws -> Consolidation.Report)?
    /// Taken around every people operation (before ``PeopleOperationLock``) when the store is shared by several
    /// processes that can each change people: the local library's file lock. `nil` (the default): operations are
    /// serialised within this process only.
    public var storeLock: (any StoreLock)?

    /// Validity of presigned URLs unless a call says otherwise: 15 minutes.
    public static let defaultURLExpiry: Duration = .seconds(900)
    /// The longest name a person may be given, in characters.
    public static let maximumNameLength = 200

    public init(
        metadata: any MetadataStore, photos: any PhotoStore, thumbnails: any PhotoStore, index: any FaceIndex,
        clock: any WallClock = SystemWallClock(), minimumFacesPerPerson: Int = 1, personVectors: (any PersonVectorIndex)? = nil
    ) {
        self.metadata = metadata
        self.photos = photos
        self.thumbnails = thumbnails
        self.index = index
        self.clock = clock
        self.minimumFacesPerPerson = max(1, minimumFacesPerPerson)
        self.personVectors = personVectors
    }

    /// This gallery over other photo and thumbnail stores (the same files behind signed URLs, in `serve`), with
    /// every other setting and hook kept.
    public func serving(photos: any PhotoStore, thumbnails: any PhotoStore) -> Gallery {
        var gallery = Gallery(
            metadata: metadata, photos: photos, thumbnails: thumbnails, index: index, clock: clock,
            minimumFacesPerPerson: minimumFacesPerPerson, personVectors: personVectors)
        gallery.regroupAfterUndoneMerge = regroupAfterUndoneMerge
        gallery.storeLock = storeLock
        return gallery
    }

    /// The journal the people operations go through. Each operation first finishes one a crash interrupted
    /// (``PeopleJournal/recover(recent:)``), then computes its changes on what that left.
    public var journal: PeopleJournal { PeopleJournal(metadata: metadata, index: personVectors, clock: clock) }

    // MARK: Reading

    /// Whether a person is listed (see ``minimumFacesPerPerson``).
    public func isListed(_ person: Person) -> Bool { person.faceCount >= minimumFacesPerPerson || person.isConfirmed }

    /// People, most photos first. One metadata query (more when unassigned faces' groups are passed over).
    public func people(page: PageRequest = PageRequest()) async throws -> Page<Person> {
        try await filteredPeople(page: page, keep: isListed)
    }

    /// The groups of unassigned faces: people not listed because they have fewer than
    /// ``minimumFacesPerPerson`` faces and no user confirmed them (their faces: ``photos(of:page:)``).
    /// Reads the people listing from where it holds the fewest photos, page after page.
    public func unassignedFaces(page: PageRequest = PageRequest()) async throws -> Page<Person> {
        guard minimumFacesPerPerson > 1 else { return Page(items: [], nextCursor: nil) }
        return try await filteredPeople(page: page) { !isListed($0) }
    }

    /// The people listing with `keep` applied, `page.limit` kept people a page; the cursor continues after
    /// the last person read, kept or not.
    private func filteredPeople(page: PageRequest, keep: (Person) -> Bool) async throws -> Page<Person> {
        var kept: [Person] = []
        var cursor = page.cursor
        repeat {
            let read = try await metadata.people(page: PageRequest(limit: max(page.limit - kept.count, 1), cursor: cursor))
            kept += read.items.filter(keep)
            cursor = read.nextCursor
        } while kept.count < page.limit && cursor != nil
        return Page(items: kept, nextCursor: cursor)
    }

    /// One person (a merged-away id answers with the person it was merged into).
    public func person(_ id: PersonID) async throws -> Person {
        guard let person = try await metadata.person(id) else { throw GalleryError.personNotFound(id) }
        return person
    }

    /// The photos a person appears in, newest first, each once, with one of the person's faces in it (a person
    /// a user merged can have two faces in one photo: the count says 9 photos, so the list shows 9). A page
    /// holds at most `page.limit` photos, fewer when some were the same photo.
    /// Requests: two, plus one small read when there is a next page, to step past the person's other faces in the
    /// page's last photo (faces are listed by photo, so they follow each other).
    public func photos(of personID: PersonID, page: PageRequest = PageRequest()) async throws -> Page<PersonPhoto> {
        let faces = try await faces(of: personID, page: page)
        var shown = Set<PhotoID>()
        let items = faces.items.filter { shown.insert($0.photo.id).inserted }
        var cursor = faces.nextCursor
        while let next = cursor {
            let following = try await metadata.appearances(ofPerson: personID, page: PageRequest(limit: 1, cursor: next))
            guard let face = following.items.first, shown.contains(face.photoID) else { break }
            cursor = following.nextCursor
        }
        return Page(items: items, nextCursor: cursor)
    }

    /// Every face of a person, newest photo first, each with its photo: what a person's faces are (an unassigned
    /// group's face, the faces a user can move). Two metadata requests.
    public func faces(of personID: PersonID, page: PageRequest = PageRequest()) async throws -> Page<PersonPhoto> {
        _ = try await person(personID)
        let appearances = try await metadata.appearances(ofPerson: personID, page: page)
        let records = try await metadata.photos(appearances.items.map(\.photoID))
        return Page(
            items: appearances.items.compactMap { appearance in
                records[appearance.photoID].map { PersonPhoto(photo: $0, appearance: appearance) }
            },
            nextCursor: appearances.nextCursor)
    }

    /// Photos in the order the store lists them (by id), with the given status or, when `status` is `nil`, any but
    /// deleted: the Status page's failed photos and their reasons. One metadata query.
    public func photos(withStatus status: PhotoStatus.Kind?, page: PageRequest = PageRequest()) async throws -> Page<Photo> {
        let read = try await metadata.photos(withStatus: status, page: page)
        return Page(items: read.items.filter { $0.status != .deleted }, nextCursor: read.nextCursor)
    }

    /// A photo with the people in it.
    public func photo(_ id: PhotoID) async throws -> PhotoDetail {
        guard let photo = try await metadata.photo(id), photo.status != .deleted else { throw GalleryError.photoNotFound(id) }
        let appearances = try await metadata.appearances(inPhoto: id)
        var faces: [PhotoDetail.Face] = []
        for appearance in appearances {
            if let person = try await metadata.person(appearance.personID) {
                faces.append(PhotoDetail.Face(appearance: appearance, person: person))
            }
        }
        return PhotoDetail(photo: photo, faces: faces)
    }

    /// A URL to the original photo, valid for `expiresIn` (at most 7 days). No request is made.
    public func photoURL(for photo: Photo, expiresIn: Duration = defaultURLExpiry) async throws -> URL {
        try await photos.presignedURL(for: photo.reference.key, expiresIn: expiresIn)
    }

    /// A URL to a face thumbnail (``Appearance/thumbnailKey``, ``Person/coverThumbnailKey``).
    public func thumbnailURL(for key: String, expiresIn: Duration = defaultURLExpiry) async throws -> URL {
        try await thumbnails.presignedURL(for: key, expiresIn: expiresIn)
    }

    // MARK: Changing

    /// Runs a people operation alone: under ``storeLock`` (other processes) when there is one, then under
    /// ``PeopleOperationLock`` (this process).
    private func exclusively<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await underStoreLock { try await PeopleOperationLock.shared.run(body) }
    }

    /// Runs `body` under ``storeLock`` when there is one.
    private func underStoreLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        guard let storeLock else { return try await body() }
        return try await storeLock.withLock(body)
    }

    /// `name` in double quotes, its backslashes and double quotes escaped: how the journal's summaries show a
    /// name (`named p_… "Mary \"Mo\" O'Brien"`), so a quote inside one reads unambiguously.
    static func quoted(_ name: String) -> String {
        "\"" + name.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }

    /// Names a person; `nil` or blank clears the name. Names are trimmed, at most 200 characters, no control characters.
    /// Journaled (undoable); a named person is confirmed (consolidation keeps their faces together).
    public func rename(_ id: PersonID, to name: String?) async throws -> Person {
        try await exclusively {
            try await journal.recover()
            let cleaned = try name.flatMap(Self.cleanName)
            let before = try await person(id)
            var after = before
            after.name = cleaned
            if cleaned != nil { after.pinned = true }
            guard after != before else { return before }
            try await journal.perform(PeopleOperation(
                kind: .rename, automatic: false, at: clock.now(), summary: "named \(before.id) \(cleaned.map(Self.quoted) ?? "(no name)")",
                changes: [.person(before: before, after: after)]))
            return try await person(id)
        }
    }

    /// Moves every photo and face of `source` to `target` and removes `source` (its id keeps resolving to
    /// `target`). The user's word wins: the two may even share a photo. Thumbnails keep their keys. The target
    /// is confirmed (consolidation keeps the faces together). Journaled: ``undo(_:)`` separates them again.
    public func merge(_ source: PersonID, into target: PersonID) async throws -> Person {
        try await exclusively {
            try await journal.recover()
            guard source != target else { throw GalleryError.invalidMerge("a person cannot be merged into itself") }
            let absorbed = try await person(source), into = try await person(target)
            if absorbed.id == into.id { return into }
            let faces = try await Page.all(pageSize: 500) { try await metadata.appearances(ofPerson: absorbed.id, page: $0) }.map(\.faceID)
            var merged = into
            merged.name = into.name ?? absorbed.name
            merged.pinned = true
            merged.createdAt = min(into.createdAt, absorbed.createdAt)
            try await journal.perform(PeopleOperation(
                kind: .merge, automatic: false, at: clock.now(), summary: "merged \(absorbed.id) into \(into.id)",
                changes: [.person(before: into, after: merged), .person(before: absorbed, after: nil), .merge(absorbed: absorbed.id, into: into.id)]
                    + faces.sorted().map { .move(face: $0, from: absorbed.id, to: into.id) }))
            return try await person(into.id)
        }
    }

    /// "Not this person": moves a face to `target`, or to a new person when `target` is `nil`, and remembers
    /// that it is not the person it left (cannot-links with that person's other faces, which consolidation
    /// keeps). The person it joins is confirmed. Journaled and undoable. Returns the person it is now with.
    /// Throws ``GalleryError/alreadyWith(_:_:)`` when `target` is the person the face is with, or when `target` is
    /// `nil` and the face is alone in an unnamed person a user confirmed (where a move to a new person put it: a
    /// retry would only give it another id). Nothing is journaled; the HTTP API answers that as an idempotent
    /// `PUT`, the CLI as "nothing to move".
    @discardableResult
    public func move(_ face: FaceID, to target: PersonID?) async throws -> Person {
        try await exclusively {
            try await journal.recover()
            guard let appearance = try await metadata.appearances(ofFaces: [face])[face] else { throw GalleryError.faceNotFound(face) }
            let from = try await person(appearance.personID)
            if target == nil, from.faceCount == 1, from.pinned, from.name == nil { throw GalleryError.alreadyWith(face, from.id) }
            var changes: [PeopleOperation.Change] = []
            let targetID: PersonID
            if let target {
                let into = try await person(target)
                guard into.id != from.id else { throw GalleryError.alreadyWith(face, into.id) }
                var confirmed = into
                confirmed.pinned = true
                changes.append(.person(before: into, after: confirmed))
                targetID = into.id
            } else {
                let now = clock.now()
                targetID = PersonID(rawValue: "p_" + Base32.digest(of: "moved\u{0}\(face.rawValue)\u{0}\(now.timeIntervalSince1970)", characters: 26))
                changes.append(.person(before: nil, after: Person(id: targetID, coverFaceID: face, createdAt: now, updatedAt: now, pinned: true)))
            }
            changes.append(.move(face: face, from: from.id, to: targetID))
            let others = try await Page.all(pageSize: 500) { try await metadata.appearances(ofPerson: from.id, page: $0) }
                .map(\.faceID).filter { $0 != face }
            if !others.isEmpty { changes.append(.cannotLinks(others.prefix(500).map { FacePair(face, $0) })) }
            if others.isEmpty { changes.append(.person(before: from, after: nil)) }
            if from.coverFaceID == face, let next = others.min() {
                // The cover leaves with the face: journaled, so an undo gives the person its cover back.
                var uncovered = from
                uncovered.coverFaceID = next
                changes.append(.person(before: from, after: uncovered))
            }
            if personVectors != nil { changes.append(.association(face: face, from: from.id, to: targetID)) }
            try await journal.perform(PeopleOperation(
                kind: .move, automatic: false, at: clock.now(), summary: "moved face \(face) from \(from.id) to \(target == nil ? "new person " : "")\(targetID)",
                changes: changes))
            return try await person(targetID)
        }
    }

    /// Makes the unassigned face's group a person (confirmed, listed whatever its number of faces), with a
    /// name when given. Journaled and undoable. A face whose person is already listed changes nothing without a
    /// name (confirming such a person would keep consolidation from ever merging it, which no one asked for);
    /// with one, the person is named.
    @discardableResult
    public func makePerson(from face: FaceID, name: String? = nil) async throws -> Person {
        try await exclusively {
            try await journal.recover()
            guard let appearance = try await metadata.appearances(ofFaces: [face])[face] else { throw GalleryError.faceNotFound(face) }
            let before = try await person(appearance.personID)
            if name == nil, isListed(before) { return before }
            // A face of a person already listed names that person if they have no name; one with a name is not
            // renamed behind the user's back (`make-person FACE --name X` on a face of "Vladimir").
            if let name, isListed(before), let existing = before.name, try Self.cleanName(name) != existing {
                throw GalleryError.invalidMove("cannot make a person of face \(face): it is already with \(before.id) (\(existing)); `rename` renames that person, `move` takes the face to another")
            }
            var after = before
            after.pinned = true
            if let name { after.name = try Self.cleanName(name) ?? before.name }
            guard after != before else { return before }
            try await journal.perform(PeopleOperation(
                kind: .makePerson, automatic: false, at: clock.now(), summary: "made \(before.id) a person", changes: [.person(before: before, after: after)]))
            return try await person(before.id)
        }
    }

    /// The journal of people operations, newest first (``PeopleOperation``).
    public func history(page: PageRequest = PageRequest()) async throws -> Page<PeopleOperation> {
        try await metadata.operations(page: page)
    }

    /// Reverses an operation (the newest one when `id` is `nil`) exactly; refuses with
    /// ``PeopleOperationError/conflict(_:_:)`` when a later operation touched the same faces or people.
    /// Forgetting a person is a privacy erase and is not in the journal.
    ///
    /// A merge's undo gives each person back the faces the merge moved; faces whose photos arrived after the merge
    /// may have joined the merged person only because the other's faces were in it (a merge of two people by
    /// mistake, then more photos of both). The same holds for a move (a face moved to the wrong person, then more
    /// photos of whom it shows). With ``regroupAfterUndoneMerge`` set, those faces are placed again (an automatic
    /// operation of its own, after the undo).
    @discardableResult
    public func undo(_ id: String? = nil) async throws -> PeopleOperation {
        try await undoReporting(id).undo
    }

    /// What ``undoReporting(_:)`` did.
    public struct UndoOutcome: Sendable, Hashable {
        /// The undo, itself an operation.
        public var undo: PeopleOperation
        /// The regrouping that followed an undone merge (``regroupAfterUndoneMerge``): one automatic operation per
        /// group of faces it changed; empty when nothing moved.
        public var regrouping: [PeopleOperation]
        /// `undo` is an earlier undo, stopped before its regrouping, that this call finished instead of undoing
        /// another operation (a bare undo only: the user's last undo did not end).
        public var finishedInterrupted = false
    }

    /// ``undo(_:)``, saying which operations its regrouping journaled (other processes may journal theirs at the
    /// same time, so the newest in the history need not be it).
    public func undoReporting(_ id: String? = nil) async throws -> UndoOutcome {
        // The undo and its regrouping under one hold of the store lock: no other process's operation between them.
        try await underStoreLock {
            guard let regroup = regroupAfterUndoneMerge else {
                return UndoOutcome(undo: try await PeopleOperationLock.shared.run { try await journal.undo(id) }, regrouping: [])
            }
            // An earlier undo whose regrouping a crash kept from running: that regrouping first. When that undo is
            // the newest operation, a bare undo stops there: it finishes what the user asked for last, as it
            // finishes an undo stopped half applied.
            let waiting = try await Consolidation.awaitingRegrouping(in: metadata)
            if let last = waiting.last {
                let newest = try await metadata.operations(page: PageRequest(limit: 1)).items.first?.id
                var finished: [PeopleOperation] = []
                for undo in waiting { finished += try await Consolidation.regroup(after: undo, in: metadata, with: regroup) }
                if id == nil, last.id == newest {
                    return UndoOutcome(undo: try await metadata.operation(last.id) ?? last, regrouping: finished, finishedInterrupted: true)
                }
            }
            // The undo is written as awaiting its regrouping, so a crash between the two leaves a trace.
            let undo = try await PeopleOperationLock.shared.run {
                try await journal.undo(id) { Consolidation.UndoneMerge(undoing: $0, by: nil) != nil }
            }
            guard undo.awaitsRegrouping == true else { return UndoOutcome(undo: undo, regrouping: []) }
            let regrouping = try await Consolidation.regroup(after: undo, in: metadata, with: regroup)
            return UndoOutcome(undo: try await metadata.operation(undo.id) ?? undo, regrouping: regrouping)
        }
    }

    /// Deletes a photo from the gallery: its faces leave the index, its thumbnails and appearances go, the
    /// people's counts drop and a person left with no photo disappears. The record stays as a `deleted`
    /// tombstone so a late re-delivery of the same upload does not bring it back. The original is removed
    /// from the photo store only with `removeOriginal` (local photos are the user's files). Idempotent.
    /// Throws ``GalleryError/photoBusy(_:)`` while a worker is processing the photo. It changes people (their
    /// counts, a person left with no photo), so it runs alone, as the people operations do.
    public func deletePhoto(_ id: PhotoID, removeOriginal: Bool = false) async throws {
        try await exclusively {
            var photo = try await tombstone(id)
            let appearances = try await metadata.appearances(inPhoto: id)
            try await FaceRemoval(index: index, thumbnails: thumbnails, metadata: metadata)
                .remove(appearances, alsoIndexed: photo.faceIDs)
            if removeOriginal { try await photos.delete(photo.reference.key) }
            photo.faceIDs = []
            photo.indexedContentTag = nil
            photo.skippedFaces = []
            _ = try? await metadata.savePhoto(photo, expectedRevision: photo.revision)
        }
    }

    /// Forgets a person: every face of theirs leaves the index, every thumbnail and appearance goes, and the
    /// person disappears. Photos stay, with the other people in them. The journal keeps its operations (ids,
    /// kinds, times) but no longer names the person: their names leave every snapshot and summary, and the
    /// user's "not this person" constraints on their faces go (``PeopleJournal/undo(_:)`` refuses what touched
    /// them). Returns how many faces were removed. Cost: the person's appearances in pages of 100, then one
    /// read of the whole journal and a write per operation that named them.
    ///
    /// Unlike every other operation, it does not follow a merged-away id to the person it went into: it throws
    /// ``GalleryError/mergedAway(_:into:)``, so that a stale id (an old listing, another tab) cannot erase, for
    /// good, a person the caller never named.
    @discardableResult
    public func forget(_ id: PersonID) async throws -> Int {
        try await exclusively {
            try await journal.recover()
            let forgotten = try await person(id)
            guard forgotten.id == id else { throw GalleryError.mergedAway(id, into: forgotten) }
            let removal = FaceRemoval(index: index, thumbnails: thumbnails, metadata: metadata)
            var faces = Set<FaceID>()
            while true {
                let page = try await metadata.appearances(ofPerson: id, page: PageRequest(limit: 100))
                guard !page.items.isEmpty else { break }
                try await removal.remove(page.items)
                faces.formUnion(page.items.map(\.faceID))
                try await detach(Set(page.items.map(\.faceID)), fromPhotos: Set(page.items.map(\.photoID)))
                if try await metadata.person(id) == nil { break }
            }
            try await eraseFromJournal(forgotten, faces: faces)
            return faces.count
        }
    }

    /// What would still name a forgotten person: their names (and those of the people merged into them) in the
    /// journal's snapshots and summaries, and the cannot-links of their faces.
    private func eraseFromJournal(_ person: Person, faces: Set<FaceID>) async throws {
        let links = try await metadata.cannotLinks(touching: Array(faces))
        if !links.isEmpty { try await metadata.removeCannotLinks(links) }
        let operations = try await Page.all(pageSize: 500) { try await metadata.operations(page: $0) }
        var erased: Set<PersonID> = [person.id]
        var grew = true
        while grew {
            grew = false
            for operation in operations {
                for case .merge(let absorbed, let into) in operation.changes where erased.contains(into) && !erased.contains(absorbed) {
                    erased.insert(absorbed)
                    grew = true
                }
            }
        }
        var names = Set([person.name].compactMap { $0 })
        for operation in operations {
            for case .person(let before, let after) in operation.changes {
                for snapshot in [before, after].compactMap({ $0 }) where erased.contains(snapshot.id) { names.formUnion([snapshot.name].compactMap { $0 }) }
            }
        }
        for var operation in operations {
            let touches = erased.contains { operation.summary.contains($0.rawValue) } || operation.changes.contains { change in
                switch change {
                case .person(let before, let after): [before, after].contains { $0.map { erased.contains($0.id) } ?? false }
                case .move(let face, let from, let to): faces.contains(face) || erased.contains(from) || erased.contains(to)
                case .merge(let absorbed, let into): erased.contains(absorbed) || erased.contains(into)
                default: false
                }
            }
            guard touches else { continue }
            let original = operation
            operation.changes = operation.changes.map { change in
                guard case .person(var before, var after) = change else { return change }
                if let id = before?.id, erased.contains(id) { before?.name = nil }
                if let id = after?.id, erased.contains(id) { after?.name = nil }
                return .person(before: before, after: after)
            }
            for name in names.sorted(by: { $0.count > $1.count }) { operation.summary = operation.summary.replacing(name, with: "(forgotten)") }
            if operation != original { try await metadata.saveOperation(operation) }
        }
    }

    // MARK: Helpers

    /// A name trimmed, `nil` when blank; at most 200 characters, no control characters or line breaks, no
    /// invisible formatting but the joiners, no U+FFFD, and something visible.
    static func cleanName(_ name: String) throws -> String? {
        let trimmed = String(name.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        guard !trimmed.isEmpty else { return nil }
        guard trimmed.count <= maximumNameLength else { throw GalleryError.invalidName("longer than \(maximumNameLength) characters") }
        guard !trimmed.unicodeScalars.contains(where: { [.control, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory) }) else {
            throw GalleryError.invalidName("contains control characters or line breaks")
        }
        // Format characters change how the text around them is shown without being seen (a right-to-left override
        // makes "Bob" of "‮boB", a zero-width space hides in a name); U+FFFD is what undecodable bytes became. The
        // joiners (U+200C, U+200D) stay: emoji sequences and Persian or Indic names need them.
        guard !trimmed.unicodeScalars.contains(where: {
            ($0.properties.generalCategory == .format && !(0x200C...0x200D).contains($0.value)) || $0.value == 0xFFFD
        }) else {
            throw GalleryError.invalidName("contains invisible formatting characters (direction overrides, zero-width spaces) or bytes that are not text")
        }
        // A name must show something: one made of joiners alone is invisible.
        guard trimmed.unicodeScalars.contains(where: { ![.format, .spaceSeparator, .nonspacingMark, .enclosingMark].contains($0.properties.generalCategory) }) else {
            throw GalleryError.invalidName("has no visible character")
        }
        return trimmed
    }

    /// Marks the photo deleted (compare-and-set), refusing while a worker holds a live lease.
    private func tombstone(_ id: PhotoID) async throws -> Photo {
        for _ in 0..<8 {
            guard var photo = try await metadata.photo(id) else { throw GalleryError.photoNotFound(id) }
            if photo.status == .deleted { return photo }
            if photo.status == .processing, let lease = photo.lease, lease.expiresAt > clock.now() {
                throw GalleryError.photoBusy(id)
            }
            photo.status = .deleted
            photo.lease = nil
            photo.updatedAt = clock.now()
            do {
                return try await metadata.savePhoto(photo, expectedRevision: photo.revision)
            } catch MetadataStoreError.conditionFailed { continue }
        }
        throw GalleryError.photoBusy(id)
    }

    /// Drops forgotten faces from their photos' records.
    private func detach(_ faces: Set<FaceID>, fromPhotos photoIDs: Set<PhotoID>) async throws {
        for photoID in photoIDs {
            for _ in 0..<8 {
                guard var photo = try await metadata.photo(photoID) else { break }
                photo.faceIDs.removeAll { faces.contains($0) }
                photo.updatedAt = clock.now()
                do {
                    try await metadata.savePhoto(photo, expectedRevision: photo.revision)
                    break
                } catch MetadataStoreError.conditionFailed { continue }
            }
        }
    }
}

/// A photo of a person, with the person's face in it.
public struct PersonPhoto: Hashable, Sendable {
    public var photo: Photo
    public var appearance: Appearance
}

/// A photo and the people in it.
public struct PhotoDetail: Hashable, Sendable {
    public var photo: Photo
    public var faces: [Face]

    public struct Face: Hashable, Sendable {
        public var appearance: Appearance
        public var person: Person
    }
}

/// Failures of gallery operations, each naming what a client got wrong or must wait for.
public enum GalleryError: Error, Hashable, Sendable, CustomStringConvertible {
    case personNotFound(PersonID)
    case photoNotFound(PhotoID)
    /// A worker is processing the photo; try again in a moment.
    case photoBusy(PhotoID)
    case invalidName(String)
    case invalidMerge(String)
    /// A move, or a make-person, that cannot be done: the reason is the whole message.
    case invalidMove(String)
    /// A move to the person the face is with already (its id as given may be one merged into them): nothing
    /// changed.
    case alreadyWith(FaceID, PersonID)
    /// A forget of an id merged into another person: the person it names now is not forgotten by that id.
    case mergedAway(PersonID, into: Person)
    case faceNotFound(FaceID)

    public var description: String {
        switch self {
        case .personNotFound(let id): "no person \(id)"
        case .photoNotFound(let id): "no photo \(id)"
        case .photoBusy(let id): "photo \(id) is being processed; try again shortly"
        case .invalidName(let reason): "invalid name: \(reason)"
        case .invalidMerge(let reason): "invalid merge: \(reason)"
        case .invalidMove(let reason): reason
        case .alreadyWith(let face, let person): "face \(face) is already \(person)'s: nothing to move"
        case .mergedAway(let id, let person):
            "\(id) was merged into \(person.id)\(person.name.map { " (\($0))" } ?? ""), which a forget by the old id does not erase: forget \(person.id) to erase that person, with all \(person.faceCount) faces"
        case .faceNotFound(let id): "no face \(id)"
        }
    }
}
