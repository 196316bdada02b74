import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Runs a Hummingbird HTTP/1 server for `respond` until the calling task is cancelled, then shuts it down
/// gracefully (connections finish their requests), quietly. The service group runs in a task of its own, so
/// cancelling ours does not cancel its connections mid-request. A connection idle for a minute is closed (a
/// slow or stuck client holds no slot for long). `onRunning` gets the port it listens on (useful with port 0).
/// Throws ``ListenError`` when it cannot listen (the port taken, an address not of this machine).
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
        do {
            try await running.value
        } catch let error as IOError {
            throw ListenError(host: host, port: port, errorNumber: error.errnoCode)
        } catch is SocketAddressError.UnknownHost, is SocketAddressError {
            throw ListenError(host: host, port: port, reason: "no such host or address on this machine")
        }
    } onCancel: {
        Task { await group.triggerGracefulShutdown() }
    }
}

/// A server could not listen on its address: `bind(2)` or `listen(2)` failed.
public struct ListenError: Error, Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// `strerror(3)`'s text ("Address already in use", "Cannot assign requested address", "Permission denied").
    public var reason: String
    public var addressInUse: Bool

    public init(host: String, port: Int, errorNumber: Int32) {
        self.init(host: host, port: port, reason: String(cString: strerror(errorNumber)))
        addressInUse = errorNumber == EADDRINUSE
    }

    public init(host: String, port: Int, reason: String) {
        self.host = host
        self.port = port
        self.reason = reason
        addressInUse = false
    }

    public var description: String {
        "cannot listen on \(host.contains(":") ? "[\(host)]" : host):\(port): \(reason)"
            + (addressInUse ? " (another program listens there: pass another --port, or --port 0 for a free one)" : "")
    }
}
