#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Caches another provider's credentials and refreshes temporary ones before they expire, as botocore does:
/// from 15 minutes before expiry a refresh is attempted and a failure keeps the cached credentials; from
/// 10 minutes before, a refresh must succeed. Concurrent callers share one refresh.
public actor RefreshingCredentialProvider: CredentialProvider {
    public let base: any CredentialProvider
    public let advisoryWindow: Duration
    public let mandatoryWindow: Duration
    private let clock: any WallClock
    private var cached: AWSCredentials?
    private var refreshing: Task<AWSCredentials, any Error>?

    public init(
        _ base: any CredentialProvider, advisoryWindow: Duration = .seconds(15 * 60), mandatoryWindow: Duration = .seconds(10 * 60),
        clock: any WallClock = SystemWallClock()
    ) {
        self.base = base
        self.advisoryWindow = advisoryWindow
        self.mandatoryWindow = mandatoryWindow
        self.clock = clock
    }

    public func credentials() async throws -> AWSCredentials {
        let now = clock.now()
        if let cached {
            guard let expiration = cached.expiration else { return cached }
            let remaining = expiration.timeIntervalSince(now)
            if remaining > advisoryWindow.seconds { return cached }
            if remaining > mandatoryWindow.seconds {
                return (try? await refresh()) ?? cached
            }
        }
        return try await refresh()
    }

    private func refresh() async throws -> AWSCredentials {
        if let refreshing { return try await refreshing.value }
        let task = Task { [base] in try await base.credentials() }
        refreshing = task
        defer { refreshing = nil }
        let fresh = try await task.value
        cached = fresh
        return fresh
    }
}
