import Synchronization

/// The AWS standard retry mode: at most 3 attempts; full-jitter exponential backoff,
/// `random(0, 1) × min(base × 2^(attempt − 1), 20 s)` with a 1 s base; and a retry budget per client
/// (500 tokens, a retry costs 5, or 10 after a timeout; a success refunds what it cost, or adds 1) so an
/// outage does not turn every caller into a retry storm. Only throttling, 5xx and connection errors are
/// retried; everything else fails at once.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    public let budget: RetryBudget
    /// Waits between attempts (tests replace it).
    public var sleep: @Sendable (Duration) async throws -> Void
    /// Draws the jitter factor in 0..<1 (tests replace it).
    public var jitter: @Sendable () -> Double

    public init(
        maxAttempts: Int = 3, baseDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(20), budget: RetryBudget = RetryBudget(),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.budget = budget
        self.sleep = sleep
        self.jitter = jitter
    }

    /// The wait before retry number `retry` (1 for the first retry).
    public func delay(beforeRetry retry: Int) -> Duration {
        let exponential = baseDelay * (1 << min(max(retry - 1, 0), 30))
        return min(exponential, maxDelay) * jitter()
    }

    /// Whether `error` is worth another attempt under the standard mode.
    public static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case let error as AWSServiceError: error.isRetryable
        case is HTTPTransportError: true
        default: false
        }
    }

    /// Runs `attempt` until it succeeds, fails with an error that is not retryable, runs out of attempts, or
    /// the budget runs dry; returns the result or throws the last error.
    public func run<Result: Sendable>(_ attempt: @Sendable (Int) async throws -> Result) async throws -> Result {
        var spent = 0
        for number in 1...max(maxAttempts, 1) {
            do {
                let result = try await attempt(number)
                budget.succeeded(refunding: spent)
                return result
            } catch {
                guard number < maxAttempts, Self.isRetryable(error) else { throw error }
                let cost = error is HTTPTransportError ? RetryBudget.timeoutCost : RetryBudget.retryCost
                guard budget.withdraw(cost) else { throw error }
                spent = cost
                try await sleep(delay(beforeRetry: number))
            }
        }
        preconditionFailure("the loop returns or throws")
    }
}

/// The standard mode's retry quota, shared by every request of one client.
public final class RetryBudget: Sendable {
    public static let capacity = 500
    public static let retryCost = 5
    public static let timeoutCost = 10
    private let tokens: Mutex<Int>

    public init(tokens: Int = RetryBudget.capacity) { self.tokens = Mutex(tokens) }

    /// Tokens left.
    public var available: Int { tokens.withLock { $0 } }

    /// Takes `cost` tokens for a retry; `false` (and nothing taken) when there are not enough.
    func withdraw(_ cost: Int) -> Bool {
        tokens.withLock { tokens in
            guard tokens >= cost else { return false }
            tokens -= cost
            return true
        }
    }

    /// A success returns what its retry cost, or one token when it needed no retry.
    func succeeded(refunding spent: Int) {
        tokens.withLock { $0 = min($0 + (spent > 0 ? spent : 1), Self.capacity) }
    }
}
