import NIOCore
import NIOPosix

/// Threads of their own for CPU-heavy or blocking calls — image decoding and encoding, the face engine, file
/// reads — so they never occupy Swift's cooperative threads.
///
/// The cooperative pool has one thread per core (two on a 2-core machine or a small Lambda): a single 300 ms
/// decode on it stalls every server, timer and Runtime API call of the process for 300 ms. Work submitted here
/// runs on a `NIOThreadPool` (swift-nio's pool for blocking work) of ``threadCount`` threads, one per core,
/// first come first served; the caller's task suspends meanwhile. Work still queued when its task is
/// cancelled does not start (`CancellationError`); work already running finishes.
public enum BlockingWork {
    /// One thread per core (at least 2): enough to keep every core busy with decoding and face analysis.
    public static let threadCount = max(2, System.coreCount)

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
        return pool
    }()

    /// Runs `body` on a thread of the pool and returns its result; throws what it throws.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}
