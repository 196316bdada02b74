import FaceClusterKit
import FaceClusterLocal
import Foundation
import Testing

@Suite("Library lock: one holder at a time, across processes and within one")
struct LibraryLockTests {
    static func directory() throws -> URL {
        let directory = Scratch.url("fck-lock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("holders in one process take turns, and waiting ties up no IO thread (file reads go on)")
    func waitersInOneProcess() async throws {
        let lock = LibraryLock(directory: try Self.directory())
        let order = Locked<[Int]>([])
        let waiters = try await lock.withLock {
            // More waiters than the IO pool has threads: blocked in flock(2), they would leave none for file reads.
            var waiters: [Task<Void, any Error>] = []
            for number in 0..<8 {
                waiters.append(Task { try await lock.withLock { order.withLock { $0.append(number) } } })
            }
            try await Task.sleep(for: .milliseconds(300))
            // A file read while all of them wait: it must not wait for the lock.
            // (A task of its own, not awaited: were the IO threads all blocked, awaiting it here would never end.)
            let done = Locked(false)
            Task { _ = try await BlockingWork.io { true }; done.withLock { $0 = true } }
            var waited = Duration.zero
            while !done.value, waited < .seconds(10) {
                try await Task.sleep(for: .milliseconds(50))
                waited += .milliseconds(50)
            }
            let read = done.value
            #expect(read, "an IO call waited behind the lock's waiters")
            #expect(order.value.isEmpty, "no one entered while the lock was held")
            return waiters
        }
        for waiter in waiters { try await waiter.value }
        #expect(order.value.sorted() == Array(0..<8), "each waiter ran once the holder let go")
    }
}
