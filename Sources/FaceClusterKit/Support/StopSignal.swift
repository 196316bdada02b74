import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT (Ctrl-C) and SIGTERM (`kill`, a container or Lambda shutting down) as something a long-running command
/// can await: the first signal asks for a clean stop — take no new work, let what is in flight finish or hand it
/// back — and a second one ends the process at once with the shell's status for that signal (128 + number:
/// 130 for SIGINT, 143 for SIGTERM). Whatever a stop at once leaves behind, the next run recovers (leases name
/// their process: ``WorkerIdentity/hasExited``).
///
/// Install it once, early: from then on these signals no longer kill the process by default.
public final class StopSignal: Sendable {
    private struct State {
        var received: Int32?
        var waiters: [UInt64: CheckedContinuation<Int32?, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())
    /// The dispatch sources, kept alive for the life of the process (only touched in `install`).
    private nonisolated(unsafe) var sources: [any DispatchSourceSignal] = []

    private init() {}

    /// Starts listening for `signals` (SIGINT and SIGTERM by default). `onFirst` runs once, on a dispatch
    /// queue, when the first arrives (say what is happening); a second one prints `secondMessage` to standard
    /// error and exits at once.
    public static func install(
        _ signals: [Int32] = [SIGINT, SIGTERM], secondMessage: String = "Stopped at once.",
        onFirst: @escaping @Sendable (Int32) -> Void = { _ in }
    ) -> StopSignal {
        let stop = StopSignal()
        let queue = DispatchQueue(label: "facecluster.signals")
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [stop] in
                let (first, waiters) = stop.state.withLock { state -> (Bool, [CheckedContinuation<Int32?, Never>]) in
                    guard state.received == nil else { return (false, []) }
                    state.received = number
                    defer { state.waiters = [:] }
                    return (true, Array(state.waiters.values))
                }
                guard first else {
                    let line = secondMessage + "\n"
                    _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
                    _exit(128 + number)
                }
                onFirst(number)
                for waiter in waiters { waiter.resume(returning: number) }
            }
            source.resume()
            stop.sources.append(source)
        }
        return stop
    }

    /// The first signal received, if any.
    public var received: Int32? { state.withLock { $0.received } }

    /// The exit status for the signal received (128 + its number), or `nil`.
    public var exitStatus: Int32? { received.map { 128 + $0 } }

    /// Suspends until the first signal arrives and returns it; `nil` when the waiting task is cancelled first.
    public func wait() async -> Int32? {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
                let now = state.withLock { state -> Int32?? in
                    if let received = state.received { return .some(received) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: nil)
        }
    }
}
