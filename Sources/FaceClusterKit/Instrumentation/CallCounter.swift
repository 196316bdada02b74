import Synchronization

/// Counts calls per operation (attempted calls, including those that then fail). Share one counter between
/// several ports to see a whole pipeline's call plan: `counter.count(of: "FaceIndex.searchFaces(matching:)")`.
public final class CallCounter: PortInterceptor {
    private let counts = Mutex<[PortOperation: Int]>([:])

    public init() {}

    public func intercept<Result: Sendable>(
        _ operation: PortOperation, _ call: @Sendable () async throws -> Result
    ) async throws -> Result {
        counts.withLock { $0[operation, default: 0] += 1 }
        return try await call()
    }

    /// Calls per operation so far.
    public var snapshot: [PortOperation: Int] { counts.withLock { $0 } }

    /// Calls of the operation written `Port.name`, e.g. `"FaceIndex.indexFaces"`.
    public func count(of operation: String) -> Int {
        counts.withLock { $0.first { $0.key.description == operation }?.value ?? 0 }
    }

    /// Calls of every operation of `port`.
    public func count(ofPort port: String) -> Int {
        counts.withLock { $0.filter { $0.key.port == port }.values.reduce(0, +) }
    }

    /// Every call counted.
    public var total: Int { counts.withLock { $0.values.reduce(0, +) } }

    public func reset() { counts.withLock { $0 = [:] } }
}
