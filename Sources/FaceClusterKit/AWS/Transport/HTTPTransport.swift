#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One HTTP exchange. The AWS clients speak through this small protocol, so tests can put a local server
/// or a fault injector behind it; ``AsyncHTTPClientTransport`` is the real one.
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the whole response; throws ``HTTPTransportError`` when no response came.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// How long to wait for the whole response.
    public var timeout: Duration

    public init(method: String, url: URL, headers: [(name: String, value: String)] = [], body: Data = Data(), timeout: Duration = .seconds(30)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Data

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

/// Failures before any HTTP response arrived. All are worth a retry.
public enum HTTPTransportError: Error, Hashable, Sendable, CustomStringConvertible {
    case timedOut(after: Duration)
    case connectionFailed(String)

    public var description: String {
        switch self {
        case .timedOut(let after): "no response within \(after)"
        case .connectionFailed(let detail): "connection failed: \(detail)"
        }
    }
}
