import Hummingbird

/// Runs `router` on a free loopback port for the rest of the process and returns the port once it listens.
public func serve(_ router: Router<BasicRequestContext>) async -> Int {
    let (stream, continuation) = AsyncStream<Int>.makeStream()
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
    Task { try await app.runService(gracefulShutdownSignals: []) }
    for await port in stream { return port }
    return 0
}
