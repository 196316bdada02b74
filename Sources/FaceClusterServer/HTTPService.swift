import Hummingbird
import Logging
import ServiceLifecycle

/// Runs a Hummingbird HTTP/1 server for `respond` until the calling task is cancelled, then shuts it down
/// gracefully (connections finish their requests), quietly. The service group runs in a task of its own, so
/// cancelling ours does not cancel its connections mid-request. A connection idle for a minute is closed (a
/// slow or stuck client holds no slot for long). `onRunning` gets the port it listens on (useful with port 0).
func runHTTPServer(
    host: String, port: Int, serverName: String, logger: Logger,
    onRunning: @escaping @Sendable (Int) async -> Void,
    respond: @escaping @Sendable (Request) async -> Response
) async throws {
    let app = Application(
        responder: CallbackResponder { (request: Request, _: BasicRequestContext) in await respond(request) },
        server: .http1(configuration: .init(idleTimeout: .seconds(60))),
        configuration: .init(address: .hostname(host, port: port), serverName: serverName),
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
        logger: logger)
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    let running = Task { try await group.run() }
    try await withTaskCancellationHandler {
        try await running.value
    } onCancel: {
        Task { await group.triggerGracefulShutdown() }
    }
}
