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

    /// Writes `operation` (pending), applies it, marks it applied; returns it as stored.
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
            try await apply(operation.changes)
            operation.state = .applied
            try await metadata.saveOperation(operation)
            if let undone = operation.undoes, var original = try await metadata.operation(undone) {
                original.state = .undone
                original.undoneBy = operation.id
                try await metadata.saveOperation(original)
            }
            finished.append(operation)
        }
        return finished
    }

    /// Reverses operation `id` (the newest applied one that is not itself an undo when `nil`); returns the undo.
    public func undo(_ id: String? = nil) async throws -> PeopleOperation {
        try await recover()
        let target: PeopleOperation
        if let id {
            guard let found = try await metadata.operation(id) else { throw PeopleOperationError.notFound(id) }
            target = found
        } else {
            guard let latest = try await Page.all(pageSize: 100, { try await metadata.operations(page: $0) })
                .first(where: { $0.state == .applied && $0.kind != .undo })
            else { throw PeopleOperationError.nothingToUndo }
            target = latest
        }
        guard target.state == .applied else { throw PeopleOperationError.notApplied(target.id, target.state) }
        try await checkStillCurrent(target)
        var undo = PeopleOperation(
            kind: .undo, automatic: false, at: clock.now(), summary: "undid \(target.id): \(target.summary)",
            changes: Self.inverse(target.changes), undoes: target.id)
        undo = try await perform(undo)
        var original = target
        original.state = .undone
        original.undoneBy = undo.id
        try await metadata.saveOperation(original)
        return undo
    }

    /// Throws ``PeopleOperationError/conflict(_:_:)`` when a face the operation moved is no longer where it put
    /// it, or a person it changed no longer has the name or pin it gave.
    func checkStillCurrent(_ operation: PeopleOperation) async throws {
        for change in operation.changes {
            switch change {
            case .move(let face, _, let to):
                var resolvedCurrent = try await metadata.appearances(ofFaces: [face])[face]?.personID
                if let current = resolvedCurrent { resolvedCurrent = try await metadata.person(current)?.id ?? current }
                let resolvedTarget = try await metadata.person(to)?.id ?? to
                guard resolvedCurrent == resolvedTarget else {
                    throw PeopleOperationError.conflict(operation.id, "face \(face) has moved since; undo the later operations that moved it first")
                }
            case .person(_, let after?):
                guard let current = try await metadata.person(after.id), current.id == after.id else { continue }
                guard current.name == after.name, current.pinned == after.pinned else {
                    throw PeopleOperationError.conflict(operation.id, "\(after.id) was renamed or changed since; undo that first")
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
