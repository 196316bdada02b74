import FaceClusterKit
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// What the runtime calls for each event: raw JSON in, raw JSON out.
protocol LambdaHandler: Sendable {
    func handle(_ event: Data, invocation: Invocation, logger: Logger) async throws -> Data
}

/// The Runtime API loop: `next` → handle → `response` or `error`, until the Runtime API fails.
///
/// - Set-up (clients, credentials, the first connection) runs once, before the first `next`; when it fails
///   the loop reports `init/error` and returns a failure status.
/// - Each event runs with `_X_AMZN_TRACE_ID` set to its trace id, and is bounded by its deadline (less a
///   safety margin to report in time): past it the invocation is answered with a `Runtime.DeadlineExceeded`
///   error instead of being killed silently.
/// - Any Runtime API answer outside 2xx (500: the container must go) ends the loop.
/// - Cancelling the task that runs the loop (the bootstrap does on SIGTERM, Lambda's shutdown) cancels the
///   event in progress — the ingestion pipeline then hands its photos back — and ends the loop.
struct RuntimeLoop: Sendable {
    let client: RuntimeAPIClient
    let logger: Logger
    /// Kept free before the deadline to post the error.
    var deadlineMargin: Duration = .milliseconds(250)

    /// Runs set-up, then events until the Runtime API fails. Returns the process's exit status.
    func run(setUp: @Sendable () async throws -> any LambdaHandler) async -> Int32 {
        let handler: any LambdaHandler
        do {
            handler = try await setUp()
        } catch {
            logger.error("set-up failed", metadata: ["error": "\(error)"])
            try? await client.failInitialization(RuntimeFailure(type: "Runtime.InitError", message: "\(error)"))
            return 1
        }
        while true {
            let invocation: Invocation, event: Data
            do {
                (invocation, event) = try await client.next()
            } catch {
                logger.critical("leaving: the Runtime API failed", metadata: ["error": "\(error)"])
                return 1
            }
            if let trace = invocation.traceID { setenv("_X_AMZN_TRACE_ID", trace, 1) } else { unsetenv("_X_AMZN_TRACE_ID") }
            var invocationLogger = logger
            invocationLogger[metadataKey: "requestId"] = "\(invocation.requestID)"
            do {
                let result = await outcome(handler, event, invocation, invocationLogger)
                if Task.isCancelled {
                    logger.notice("leaving: asked to stop", metadata: ["requestId": "\(invocation.requestID)"])
                    return 0
                }
                switch result {
                case .success(let body): try await client.respond(to: invocation.requestID, with: body)
                case .failure(let failure): try await client.fail(invocation.requestID, error: failure)
                }
            } catch {
                logger.critical("leaving: the Runtime API failed", metadata: ["error": "\(error)"])
                return 1
            }
        }
    }

    /// The handler's result, or its error, or `Runtime.DeadlineExceeded` when it runs past the deadline (the
    /// handler is then cancelled and not awaited: the answer must go out before Lambda stops the process).
    /// Cancelling the caller cancels the handler, which answers with what it finished.
    private func outcome(_ handler: any LambdaHandler, _ event: Data, _ invocation: Invocation, _ logger: Logger) async -> Result<Data, RuntimeFailure> {
        let budget = max(invocation.remaining - deadlineMargin, .zero)
        let work = WorkHandle()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let answered = Mutex(false)
                let answer: @Sendable (Result<Data, RuntimeFailure>) -> Bool = { result in
                    let first = answered.withLock { done in
                        defer { done = true }
                        return !done
                    }
                    if first { continuation.resume(returning: result) }
                    return first
                }
                // The timer is cancelled when the handler answers first, so no sleeping task outlives its event.
                let timer = Task {
                    try? await Task.sleep(for: budget)
                    guard !Task.isCancelled else { return }
                    let failure = RuntimeFailure(type: "Runtime.DeadlineExceeded", message: "the invocation ran out of time (deadline \(invocation.deadline))")
                    if answer(.failure(failure)) {
                        logger.error("deadline exceeded", metadata: ["deadline": "\(invocation.deadline)"])
                        work.cancel()
                    }
                }
                work.start {
                    defer { timer.cancel() }
                    do {
                        _ = answer(.success(try await handler.handle(event, invocation: invocation, logger: logger)))
                    } catch let failure as RuntimeFailure {
                        _ = answer(.failure(failure))
                    } catch {
                        logger.error("the handler failed", metadata: ["error": "\(error)"])
                        _ = answer(.failure(RuntimeFailure(type: "Runtime.HandlerError", message: "\(error)")))
                    }
                }
            }
        } onCancel: {
            work.cancel()
        }
    }
}

/// The task handling one event, which a deadline or a stop may cancel before (or while) it starts.
private final class WorkHandle: Sendable {
    private let state = Mutex<(task: Task<Void, Never>?, cancelled: Bool)>((nil, false))

    func start(_ body: @escaping @Sendable () async -> Void) {
        let task = Task { await body() }
        let cancelled = state.withLock { state -> Bool in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        state.withLock { state -> Task<Void, Never>? in
            state.cancelled = true
            return state.task
        }?.cancel()
    }
}
