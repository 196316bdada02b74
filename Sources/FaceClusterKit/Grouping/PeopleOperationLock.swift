/// Runs a process's people operations one at a time: ``Gallery``'s rename, merge, move, make-person, undo and
/// forget, and ``Consolidation``'s regrouping of a group of faces.
///
/// Each of them reads the people it touches, computes its changes and writes them through the
/// ``PeopleJournal``; two interleaved within a process (two browser tabs, a double click, an upload's
/// consolidation beside a user's merge in `facecluster serve`) both compute their changes from the same
/// people and both are journaled: on a SQLite library, ten merges of A into B and B into A and then twenty
/// identical renames, sent at once, journaled 30 operations where one merge and one rename happened, each a
/// history entry a user could try to undo. Waiters go in arrival order.
///
/// One lock for the whole process (``shared``), whatever the library: people operations are a user's clicks and
/// a consolidation per ingest, so serialising them costs little and cannot miss two galleries over one store.
/// Between processes (a CLI beside `serve`) a gallery with a ``Gallery/storeLock`` (the local library's file
/// lock) takes that first; without one (two Lambda invocations) the journal's recovery and the stores'
/// conditional writes are what protects the people.
public final class PeopleOperationLock: Sendable {
    /// The process's.
    public static let shared = PeopleOperationLock()

    private let lock = AsyncLock()

    public init() {}

    /// Runs `body` once every operation started before it has finished. Never nest it: an operation run inside
    /// another waits for itself.
    public func run<T>(_ body: () async throws -> T) async throws -> T {
        try await lock.run(body)
    }
}
