/// An exclusive lock that every process sharing one store takes around its people operations, so that none
/// computes its changes from people another process is changing at that moment (a `facecluster merge` while
/// `serve` consolidates an upload, or two `facecluster move`s at once). The local library's is `LibraryLock`,
/// a `flock(2)` on a file in the store.
///
/// Order, to never deadlock: a store lock is taken before ``PeopleOperationLock``, never inside it, and never
/// inside itself.
public protocol StoreLock: Sendable {
    /// Runs `body` holding the lock, after waiting for any other holder, in this process or another.
    func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T
}
