/// Something that runs around every call of a port: counts it, delays it, fails it. Wrap a port with
/// ``Intercepted`` (or ``FaceIndex/intercepted(by:)`` and its siblings) to apply one.
public protocol PortInterceptor: Sendable {
    /// Runs `call` (or not) for `operation`.
    func intercept<Result: Sendable>(
        _ operation: PortOperation, _ call: @Sendable () async throws -> Result
    ) async throws -> Result
}

/// One operation of one port, e.g. `FaceIndex.searchFaces(matching:)`.
public struct PortOperation: Hashable, Sendable, CustomStringConvertible {
    public var port: String
    public var name: String

    public init(port: String, name: String) {
        self.port = port
        self.name = name
    }

    public var description: String { "\(port).\(name)" }
}
