import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Threads of their own for CPU-heavy or blocking calls — image decoding and encoding, the face engine, file
/// reads — so they never occupy Swift's cooperative threads.
///
/// The cooperative pool has one thread per core (two on a 2-core machine or a small Lambda): a single 300 ms
/// decode on it stalls every server, timer and Runtime API call of the process for 300 ms. Work submitted here
/// runs on a `NIOThreadPool` (swift-nio's pool for blocking work) of ``threadCount`` threads, one per core,
/// first come first served; the caller's task suspends meanwhile. Work still queued when its task is
/// cancelled does not start (`CancellationError`); work already running finishes.
///
/// `FACECLUSTER_BLOCKING_WORK=inline` in the environment runs the work on the caller's thread instead, as
/// FaceClusterKit did before: only for measuring what the threads buy (`scripts/bench-responsiveness.sh`).
public enum BlockingWork {
    /// Whether work runs on the caller's thread (`FACECLUSTER_BLOCKING_WORK=inline`); read once.
    public static let runsInline: Bool = getenv("FACECLUSTER_BLOCKING_WORK").map { String(cString: $0) == "inline" } ?? false

    /// One thread per core (at least 2): enough to keep every core busy with decoding and face analysis.
    public static let threadCount = max(2, System.coreCount)

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
        return pool
    }()

    /// Runs `body` on a thread of the pool and returns its result; throws what it throws.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if runsInline { return try body() }
        return try await pool.runIfActive(body)
    }

    /// Queues `body` on a thread of the pool and returns at once, for blocking work that hands part of itself to
    /// another core (``DecodeFollower``): `body` runs after the work queued before it, and the caller must not
    /// wait for it to start — the pool's threads may all be the callers. With `runsInline`, runs it now.
    public static func start(_ body: @escaping @Sendable () -> Void) {
        if runsInline { return body() }
        pool.submit { _ in body() }
    }

    /// Threads for short blocking calls — file reads, writes, folder walks — kept apart from the CPU pool so a
    /// thumbnail write never waits behind a face analysis.
    private static let ioPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    /// Runs a short blocking call (file IO) on a thread of the IO pool.
    public static func io<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if runsInline { return try body() }
        return try await ioPool.runIfActive(body)
    }
}
