import FaceClusterKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a library shared by every process that opens it: `flock(2)` on a file in the store.
/// The kernel releases it when its holder exits, however it exits (a crash, `kill -9`), so it cannot go stale.
///
/// Consolidation takes it: two `ingest`s of one library that re-derive their people at the same moment each
/// read a snapshot of the other's faces and could write moves based on it; one after the other, the later one
/// (vectors reloaded under the lock) sees everything the earlier one wrote.
public struct LibraryLock: Sendable {
    public let file: URL

    public init(directory: URL, name: String = "consolidation.lock") {
        self.file = directory.appendingPathComponent(name)
    }

    /// Runs `body` holding the lock; waits (on a thread of its own, not the caller's) while another process holds it.
    public func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let path = file.path
        let descriptor = try await BlockingWork.io { () throws -> Int32 in
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
            while flock(descriptor, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    close(descriptor)
                    throw CocoaError(.fileLocking, userInfo: [NSFilePathErrorKey: path])
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
