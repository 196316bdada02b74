import FaceClusterKit
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a library shared by every process that opens it: `flock(2)` on a file in the store.
/// The kernel releases it when its holder exits, however it exits (a crash, `kill -9`), so it cannot go stale.
///
/// Consolidation takes it: two `ingest`s of one library that re-derive their people at the same moment each
/// read a snapshot of the other's faces and could write moves based on it; one after the other, the later one
/// (vectors reloaded under the lock) sees everything the earlier one wrote. So do a user's people operations
/// (the library's ``Gallery/storeLock``): a `facecluster merge` beside `serve` consolidating an upload.
///
/// Within a process, holders of one library's lock also wait their turn on an ``AsyncLock`` before `flock`,
/// so however many wait (browser tabs in `serve`), at most one IO thread is blocked in `flock` for it.
public struct LibraryLock: StoreLock {
    public let file: URL
    /// Called (on an IO thread) when another process holds the lock and this one starts waiting for it: the CLI
    /// says so, instead of a silent pause while another run regroups.
    public var onWait: (@Sendable () -> Void)?

    public init(directory: URL, name: String = "consolidation.lock", onWait: (@Sendable () -> Void)? = nil) {
        self.file = directory.standardizedFileURL.appendingPathComponent(name)
        self.onWait = onWait
    }

    /// One ``AsyncLock`` a lock file, for the process's lifetime (one a library it opens).
    private static let turns = Mutex<[String: AsyncLock]>([:])

    /// Runs `body` holding the lock; waits (suspended in this process; on an IO thread, not the caller's, while
    /// another process holds it). Not reentrant: taken inside itself, it waits for itself.
    /// Throws ``LibraryFileError`` when the lock file cannot be opened or locked (a read-only store, a folder in its
    /// place).
    public func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let path = file.path
        let onWait = onWait
        let turn = Self.turns.withLock { turns in
            if let existing = turns[path] { return existing }
            let created = AsyncLock()
            turns[path] = created
            return created
        }
        return try await turn.run {
            let descriptor = try await BlockingWork.io { () throws -> Int32 in
                let descriptor = try Self.openFile(path)
                if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return descriptor }
                if errno == EWOULDBLOCK { onWait?() }
                while flock(descriptor, LOCK_EX) != 0 {
                    guard errno == EINTR else {
                        let failure = LibraryFileError(.lock, path: path, errorNumber: errno)
                        close(descriptor)
                        throw failure
                    }
                }
                return descriptor
            }
            defer {
                flock(descriptor, LOCK_UN)
                close(descriptor)
            }
            return try await body()
        }
    }

    /// Opens (creating) the lock file and closes it again, without locking: throws ``LibraryFileError`` at once when
    /// the lock could never be taken (a read-only store, a folder in its place), before a long run's work rather
    /// than after it.
    public func check() async throws {
        let path = file.path
        try await BlockingWork.io { close(try Self.openFile(path)) }
    }

    private static func openFile(_ path: String) throws -> Int32 {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw LibraryFileError(.lock, path: path, errorNumber: errno) }
        return descriptor
    }
}
