import Synchronization

/// Makes port calls fail or slow down, deterministically: the same seed and rules fail the same calls.
/// Share one injector between several ports and the call numbers run across all of them, so
/// `.failCall(7)` fails the seventh call the pipeline makes, whichever port it goes to.
public final class FaultInjector: PortInterceptor {
    /// What to do to which calls. Calls are numbered from 1 in the order they reach the injector.
    public enum Rule: Sendable, Hashable {
        /// Fail exactly call `number`.
        case failCall(Int)
        /// Fail call `number` and every call after it: the process died there.
        case crashAt(Int)
        /// Fail each call with probability `probability` (drawn from the seeded generator).
        case failRandomly(probability: Double)
        /// Fail the first `times` calls of one operation (`"Port.name"`), e.g. throttling twice.
        case failOperation(String, times: Int)
        /// Delay every call.
        case delay(Duration)
        /// Delay every call by a random time up to the given one (from the seeded generator), to shuffle
        /// the interleavings of concurrent workers reproducibly.
        case jitter(upTo: Duration)
    }

    private struct State {
        var calls = 0
        var generator: SplitMix64
        var failedPerOperation: [String: Int] = [:]
        var injected = 0
    }

    public let rules: [Rule]
    private let state: Mutex<State>

    public init(seed: UInt64 = 0, rules: [Rule]) {
        self.rules = rules
        self.state = Mutex(State(generator: SplitMix64(seed: seed)))
    }

    /// Calls seen so far.
    public var callCount: Int { state.withLock { $0.calls } }

    /// Faults injected so far.
    public var injectedCount: Int { state.withLock { $0.injected } }

    public func intercept<Result: Sendable>(
        _ operation: PortOperation, _ call: @Sendable () async throws -> Result
    ) async throws -> Result {
        let (number, fail, pause) = state.withLock { state -> (Int, Bool, Duration) in
            state.calls += 1
            var fail = false
            var pause = Duration.zero
            for rule in rules {
                switch rule {
                case .failCall(let number): fail = fail || state.calls == number
                case .crashAt(let number): fail = fail || state.calls >= number
                case .failRandomly(let probability): fail = state.generator.nextUnit() < probability || fail
                case .failOperation(let name, let times):
                    if name == operation.description, state.failedPerOperation[name, default: 0] < times {
                        state.failedPerOperation[name, default: 0] += 1
                        fail = true
                    }
                case .delay(let duration): pause += duration
                case .jitter(let limit): pause += limit * state.generator.nextUnit()
                }
            }
            if fail { state.injected += 1 }
            return (state.calls, fail, pause)
        }
        if pause > .zero { try await Task.sleep(for: pause) }
        if fail { throw InjectedFault(operation: operation, callNumber: number) }
        return try await call()
    }
}

/// The error a ``FaultInjector`` throws. Recorded on photos as a retryable `injected_fault`.
public struct InjectedFault: Error, Hashable, Sendable, CustomStringConvertible, PhotoFailureConvertible {
    public var operation: PortOperation
    public var callNumber: Int

    public var description: String { "injected fault at call \(callNumber) (\(operation))" }

    public var photoFailure: PhotoFailure { PhotoFailure(code: .injectedFault, message: description, retryable: true) }
}

/// A small, fast, seedable generator (Steele, Lea, Flood 2014), so fault plans replay exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in 0..<1.
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
