#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Performs people operations through the journal, finishes those a crash interrupted, and undoes them.
///
/// ``perform(_:)`` writes the operation `pending` with all its changes, applies them in order, then marks it
/// `applied`. Every change is idempotent (a face moved where it is, a merge already made, a pair already
/// recorded change nothing), so ``recover()`` applies a pending operation again from its start.
/// ``undo(_:)`` applies the inverse changes in reverse order as an operation of its own, after checking that
/// nothing done since touched the same faces or people (undo that first, or the result would not be exact).
/// Restores people, counts, covers, names, pins, the faces' people (and so the thumbnails' people), the
/// user's constraints and, with a ``PersonVectorIndex``, the faces' associations.
public struct PeopleJournal: Sendable {
    public let metadata: any MetadataStore
    /// Where associations are undone (a ``PersonVectorIndex``); `nil` when no change involves one.
    public let index: (any FaceIndex)?
    public let clock: any WallClock

    public init(metadata: any MetadataStore, index: (any FaceIndex)?, clock: any WallClock = SystemWallClock()) {
        self.metadata = metadata
        self.index = index
        self.clock = clock
    }

    /// Writes `operation` (pending), applies it, marks it applied; returns it as stored. Callers ``recover(recent:)``
    /// before they compute an operation's changes (``Gallery``, ``Consolidation`` and ``undo(_:)`` do): an
    /// interrupted operation finished later would be applied over this one and undo it in part.
    @discardableResult
    public func perform(_ operation: PeopleOperation) async throws -> PeopleOperation {
        var operation = operation
        operation.state = .pending
        // Ids sort by time; one made in the same millisecond as the newest goes after it.
        if let newest = try await metadata.operations(page: PageRequest(limit: 1)).items.first, newest.id >= operation.id {
            operation.id = PeopleOperation.id(after: newest.id)
        }
        try await metadata.saveOperation(operation)
        try await apply(operation.changes)
        operation.state = .applied
        try await metadata.saveOperation(operation)
        return operation
    }

    /// Applies again every pending operation among the newest `recent` (what a crash midway leaves), oldest
    /// first; returns them.
    @discardableResult
    public func recover(recent: Int = 100) async throws -> [PeopleOperation] {
        let pending = try await metadata.operations(page: PageRequest(limit: recent)).items.filter { $0.state == .pending }.reversed()
        var finished: [PeopleOperation] = []
        for var operation in pending {
            do {
                try await apply(operation.changes)
            } catch MetadataStoreError.personNotFound {
                // It can never be finished: left pending, it would fail every later operation's recovery.
                operation.state = .abandoned
                try await metadata.saveOperation(operation)
                finished.append(operation)
                continue
            }
            operation.state = .applied
            try await metadata.saveOperation(operation)
            if let undone = operation.undoes, let original = try await metadata.operation(undone) {
                try await markUndone(original, by: operation)
            }
            finished.append(operation)
        }
        return finished
    }

    /// Reverses operation `id` (when `nil`: the newest applied one that is not itself an undo or the regrouping
    /// that followed one, and whose faces and people were not forgotten since); returns the undo. An undo a crash
    /// interrupted is finished first; when it was the newest operation and `id` is `nil`, that undo is what is
    /// returned.
    /// `awaitingRegrouping` says, of the operation about to be undone, whether a regrouping will follow the undo:
    /// the undo is then written with ``PeopleOperation/awaitsRegrouping`` set.
    public func undo(_ id: String? = nil, awaitingRegrouping: (PeopleOperation) -> Bool = { _ in false }) async throws -> PeopleOperation {
        let finished = try await recover()
        if id == nil, let interrupted = finished.last, interrupted.kind == .undo, interrupted.state == .applied,
           try await metadata.operations(page: PageRequest(limit: 1)).items.first?.id == interrupted.id {
            return interrupted
        }
        let target: PeopleOperation
        if let id {
            guard let found = try await metadata.operation(id) else { throw PeopleOperationError.notFound(id) }
            target = found
        } else {
            var latest: PeopleOperation?
            let journal = try await Page.all(pageSize: 100, { try await metadata.operations(page: $0) })
            for (position, operation) in journal.enumerated()
            where operation.state == .applied && operation.kind != .undo && operation.follows == nil {
                if try await isUnlinkedRegrouping(operation, olderOperations: journal[(position + 1)...]) { continue }
                // Forgetting is final: what it erased cannot be given back, so the operation before goes next.
                if try await forgotten(in: operation) == nil { latest = operation; break }
            }
            guard let latest else { throw PeopleOperationError.nothingToUndo }
            target = latest
        }
        guard target.state == .applied else { throw PeopleOperationError.notApplied(target.id, target.state) }
        if let erased = try await forgotten(in: target) {
            // Both a forget and a photo's deletion take faces away for good (and a person left with no face).
            throw PeopleOperationError.conflict(target.id, "\(erased) is gone since (a deleted photo or a forgotten person: final)")
        }
        try await checkStillCurrent(target)
        if let later = try await laterDependent(on: target) {
            throw PeopleOperationError.conflict(target.id, "\(later.id) (\(later.summary)) changed the same people since; undo that first")
        }
        // Undoing an undo redoes its operation with that operation's own changes: the inverse of an inverse is
        // the same but for the merges it drops, and a redone merge must leave the merged-away id resolving.
        var changes = Self.inverse(target.changes)
        if target.kind == .undo, let redone = target.undoes, let original = try await metadata.operation(redone) { changes = original.changes }
        var undo = PeopleOperation(
            kind: .undo, automatic: false, at: clock.now(), summary: "undid \(target.id): \(target.summary)",
            changes: changes, undoes: target.id)
        if awaitingRegrouping(target) { undo.awaitsRegrouping = true }
        undo = try await perform(undo)
        try await markUndone(target, by: undo)
        return undo
    }

    /// Marks `original` undone by `undo`. When `original` is itself an undo, what it had undone is in effect
    /// again (a merge redone by undoing its undo): that operation is applied once more, so a bare undo finds it
    /// next and `history` no longer calls it undone.
    private func markUndone(_ original: PeopleOperation, by undo: PeopleOperation) async throws {
        var original = original
        original.state = .undone
        original.undoneBy = undo.id
        try await metadata.saveOperation(original)
        if original.kind == .undo, let redone = original.undoes, var first = try await metadata.operation(redone), first.state == .undone {
            first.state = .applied
            first.undoneBy = nil
            try await metadata.saveOperation(first)
        }
    }

    /// Whether `operation` is the regrouping that followed an undo of a merge, journaled before regroupings named
    /// their undo (``PeopleOperation/follows``, 2026-12-05): an automatic consolidation that comes, after at most
    /// other such ones, straight after an undo of a user's merge, within a minute of it (the regrouping ran under
    /// the same hold of the lock as the undo). A bare undo passes over it, as over one that names its undo.
    func isUnlinkedRegrouping(_ operation: PeopleOperation, olderOperations: ArraySlice<PeopleOperation>) async throws -> Bool {
        guard operation.automatic, operation.kind == .consolidation, operation.follows == nil else { return false }
        guard let undo = olderOperations.first(where: { !($0.automatic && $0.kind == .consolidation && $0.follows == nil) }),
              undo.kind == .undo, operation.at.timeIntervalSince(undo.at) < 60, let undone = undo.undoes else { return false }
        guard let target = try await metadata.operation(undone) else { return false }
        return !target.automatic && target.kind == .merge
    }

    /// A face the operation moved that has no appearance any more, or a person it changed that is gone (not
    /// merged: gone), as a user would name it; `nil` when there is none. Forgetting a person erases both.
    func forgotten(in operation: PeopleOperation) async throws -> String? {
        let moved = operation.changes.compactMap { change -> FaceID? in
            if case .move(let face, _, _) = change { return face }
            return nil
        }
        let present = try await metadata.appearances(ofFaces: moved)
        if let face = moved.first(where: { present[$0] == nil }) { return "face \(face)" }
        let created = Set(operation.changes.compactMap { change -> PersonID? in
            if case .person(nil, let after?) = change { return after.id }
            return nil
        })
        for case .person(_, let after?) in operation.changes where !created.contains(after.id) {
            if try await metadata.person(after.id) == nil { return "\(after.id)" }
        }
        // Undone, a move takes its face back to where it came from: that person must still exist, or be one the
        // operation emptied (its snapshot brings it back).
        let emptied = Set(operation.changes.compactMap { change -> PersonID? in
            if case .person(let before?, nil) = change { return before.id }
            return nil
        })
        for case .move(_, let from, _) in operation.changes where !emptied.contains(from) && !created.contains(from) {
            if try await metadata.person(from) == nil { return "\(from)" }
        }
        return nil
    }

    /// The newest applied operation after `operation` that holds a snapshot of one of the people `operation`
    /// snapshotted: it was computed on the state `operation` left, so `operation` cannot be undone under it
    /// (two moves to one person: undoing the first would unpin the person the second relies on, and the second
    /// could then never be undone), or that moved a face to or from a person `operation` brought into being or
    /// removed: undone, `operation` would remove that person again, or bring it back, with faces it never had
    /// (an undone merge, a consolidation placing faces with the person it gave back, then the undo undone: the
    /// merged-away id kept those faces, half a merge). Undos are passed over: an undo of a later operation
    /// restores the state this one left. Reads the journal back to `operation`.
    func laterDependent(on operation: PeopleOperation) async throws -> PeopleOperation? {
        let people = Self.snapshotted(operation)
        guard !people.isEmpty else { return nil }
        let createdOrRemoved = Set(operation.changes.compactMap { change -> PersonID? in
            if case .person(let before, let after) = change, (before == nil) != (after == nil) { return (after ?? before)?.id }
            return nil
        })
        func movedFacesOfCreatedOrRemoved(_ later: PeopleOperation) -> Bool {
            later.changes.contains { change in
                if case .move(_, let from, let to) = change { return createdOrRemoved.contains(from) || createdOrRemoved.contains(to) }
                return false
            }
        }
        return try await newestApplied(after: operation) { later in
            // One that touched a forgotten person can never be undone, so it holds nothing back.
            guard !Self.snapshotted(later).isDisjoint(with: people) || movedFacesOfCreatedOrRemoved(later) else { return false }
            return try await forgotten(in: later) == nil
        }
    }

    /// The newest operation after `operation`, applied, that holds a snapshot of `person`: the one to undo first
    /// when `person` changed since. An undo of an operation older than `operation` counts here (undoing a rename
    /// changes the name back; undoing that undo is how to get past it); an undo of a later one only restores
    /// what that found.
    func newestApplied(after operation: PeopleOperation, changing person: PersonID) async throws -> PeopleOperation? {
        try await newestApplied(after: operation, includingUndos: true) { Self.snapshotted($0).contains(person) }
    }

    /// The newest operation after `operation`, applied and not an undo (with `includingUndos`, an undo of an
    /// operation older than `operation` counts), for which `matches` holds. Reads the journal, newest first, back
    /// to `operation` at most.
    private func newestApplied(
        after operation: PeopleOperation, includingUndos: Bool = false, where matches: (PeopleOperation) async throws -> Bool
    ) async throws -> PeopleOperation? {
        var cursor: PageCursor?
        repeat {
            let page = try await metadata.operations(page: PageRequest(limit: 100, cursor: cursor))
            for later in page.items {
                guard later.id > operation.id else { return nil }
                let counts = later.kind != .undo || (includingUndos && (later.undoes ?? "") < operation.id)
                if later.state == .applied, counts, try await matches(later) { return later }
            }
            cursor = page.nextCursor
        } while cursor != nil
        return nil
    }

    /// The people an operation holds a snapshot of (before or after it).
    private static func snapshotted(_ operation: PeopleOperation) -> Set<PersonID> {
        Set(operation.changes.compactMap { change -> PersonID? in
            if case .person(let before, let after) = change { return (after ?? before)?.id }
            return nil
        })
    }

    /// Throws ``PeopleOperationError/conflict(_:_:)`` when a face the operation moved is no longer with the
    /// person it put it with, or a person it changed no longer has the name or pin it gave or was merged into
    /// another since. Only the operation's own merges are followed: a later merge is a later operation, which must
    /// be undone first (undoing this one under it would move faces out of, or rename, the merged person).
    func checkStillCurrent(_ operation: PeopleOperation) async throws {
        var mergedInto: [PersonID: PersonID] = [:]
        for case .merge(let absorbed, let into) in operation.changes { mergedInto[absorbed] = into }
        func resolved(_ id: PersonID) -> PersonID {
            var id = id
            for _ in 0..<mergedInto.count { id = mergedInto[id] ?? id }
            return id
        }
        // The refusal when `person` was merged into `survivor` since, naming the merge that did it.
        func mergedAway(_ person: PersonID, into survivor: PersonID) async throws -> PeopleOperationError {
            let merge = try await newestApplied(after: operation) { later in
                later.changes.contains { if case .merge(person, _) = $0 { true } else { false } }
            }
            return .conflict(operation.id, "\(person) was merged into \(survivor) since\(merge.map { " by \($0.id) (\($0.summary))" } ?? ""); undo that merge first")
        }
        for change in operation.changes {
            switch change {
            case .move(let face, let from, let to):
                // Undone, the face goes back to `from`: a person merged away since would pass it to the survivor.
                if mergedInto[from] == nil, let now = try await metadata.person(from), now.id != from {
                    throw try await mergedAway(from, into: now.id)
                }
                // A store may keep a face's person id as it was and follow the merge when read.
                var current = try await metadata.appearances(ofFaces: [face])[face]?.personID
                if let stored = current { current = try await metadata.person(stored)?.id ?? stored }
                guard current == resolved(to) else {
                    if let survivor = try await metadata.person(resolved(to))?.id, survivor != resolved(to) {
                        throw try await mergedAway(resolved(to), into: survivor)
                    }
                    let by = try await newestApplied(after: operation) { later in
                        later.changes.contains { if case .move(face, _, _) = $0 { true } else { false } }
                    }
                    throw PeopleOperationError.conflict(operation.id, by.map { "face \(face) has moved since, by \($0.id) (\($0.summary)); undo that first" }
                        ?? "face \(face) has moved since; undo the later operations that moved it first")
                }
            case .person(_, let after?):
                guard mergedInto[after.id] == nil, let current = try await metadata.person(after.id) else { continue }
                guard current.id == after.id else {
                    throw try await mergedAway(after.id, into: current.id)
                }
                guard current.name == after.name, current.pinned == after.pinned else {
                    let by = try await newestApplied(after: operation, changing: after.id).map { " by \($0.id) (\($0.summary))" } ?? ""
                    throw PeopleOperationError.conflict(operation.id, "\(after.id) was renamed or changed since\(by); undo that first")
                }
            default: continue
            }
        }
    }

    /// The changes that reverse `changes`, in the order to apply them.
    public static func inverse(_ changes: [PeopleOperation.Change]) -> [PeopleOperation.Change] {
        changes.reversed().compactMap { change in
            switch change {
            case .person(let before, let after): .person(before: after, after: before)
            case .move(let face, let from, let to): .move(face: face, from: to, to: from)
            // Undoing a merge re-creates the absorbed person (from its snapshot) as its faces move back.
            case .merge: nil
            case .cannotLinks(let pairs): .cannotLinksRemoved(pairs)
            case .cannotLinksRemoved(let pairs): .cannotLinks(pairs)
            case .association(let face, let from, let to): .association(face: face, from: to, to: from)
            }
        }
    }

    /// Applies changes in order: merges, moves (creating people from their snapshots), constraints and
    /// associations; then the people's details, and people left without a face go.
    func apply(_ changes: [PeopleOperation.Change]) async throws {
        var creations: [PersonID: Person] = [:]
        for case .person(nil, let after?) in changes { creations[after.id] = after }
        for change in changes {
            switch change {
            case .merge(let absorbed, let into):
                do {
                    _ = try await metadata.mergePeople(absorbed, into: into, requireDisjointPhotos: false)
                } catch MetadataStoreError.personNotFound {
                    // Gone already (applied before a crash, and emptied since).
                }
            case .move(let face, _, let to):
                try await metadata.moveAppearance(of: face, to: to, newPerson: creations[to])
            case .cannotLinks(let pairs):
                try await metadata.recordCannotLinks(pairs)
            case .cannotLinksRemoved(let pairs):
                try await metadata.removeCannotLinks(pairs)
            case .association(let face, let from, let to):
                guard let vectors = index as? any PersonVectorIndex else { continue }
                if let from { try await vectors.disassociate([face], from: from) }
                if let to { try await vectors.associate([face], with: to, creatingPerson: true) }
            case .person:
                continue
            }
        }
        for case .person(let before, let after) in changes {
            if let after {
                do {
                    try await metadata.updatePerson(after)
                } catch MetadataStoreError.personNotFound {
                    // It has no face (yet): nothing to name.
                }
            } else if let before {
                try await metadata.recountPerson(before.id)
            }
        }
    }
}

/// Failures of people operations and their undo.
public enum PeopleOperationError: Error, Hashable, Sendable, CustomStringConvertible {
    case notFound(String)
    case nothingToUndo
    case notApplied(String, PeopleOperation.State)
    /// Undoing would not restore the earlier state exactly: something done since depends on it.
    case conflict(String, String)

    public var description: String {
        switch self {
        case .notFound(let id): "no operation \(id)"
        case .nothingToUndo: "there is nothing to undo"
        case .notApplied(let id, let state): "operation \(id) is \(state.rawValue), not applied: nothing to undo"
        case .conflict(let id, let reason): "cannot undo \(id): \(reason)"
        }
    }
}
