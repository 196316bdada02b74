import FaceClusterKit
import FaceClusterServer
import Foundation
import Testing

/// The two transports of ``GalleryAPI``: API Gateway events through the API Lambda's handler, and HTTP through
/// `facecluster serve`'s Hummingbird adapter. The route, input and contract tests run against both.
enum APIAdapter: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case lambda, server
    var testDescription: String { rawValue }
}

/// A ``GalleryServer`` on a free loopback port, stopped when the last reference goes.
final class ServedAPI: Sendable {
    let port: Int
    let server: GalleryServer
    private let task: Task<Void, any Error>
    static let transport = AsyncHTTPClientTransport()

    private init(port: Int, server: GalleryServer, task: Task<Void, any Error>) {
        self.port = port
        self.server = server
        self.task = task
    }

    deinit { task.cancel() }

    static func start(_ server: GalleryServer) async throws -> ServedAPI {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let task = Task { try await server.run { continuation.yield($0) } }
        for await port in stream { return ServedAPI(port: port, server: server, task: task) }
        throw CancellationError()
    }

    static func start(_ api: GalleryAPI, configuration: GalleryServer.Configuration = .init(port: 0), stores: [String: any PhotoStore] = [:], signer: URLSigner = URLSigner()) async throws -> ServedAPI {
        var configuration = configuration
        configuration.port = 0
        return try await start(try GalleryServer(api: api, configuration: configuration, stores: stores, signer: signer))
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// A request to `path` (with its query, as sent) on this server; headers go as given (plus none).
    func send(_ method: String, _ path: String, headers: [String: String] = [:], body: Data = Data()) async throws -> (status: Int, body: Data, headers: [String: String]) {
        let url = try #require(URL(string: base + path))
        let response = try await Self.transport.send(HTTPRequest(
            method: method, url: url, headers: headers.map { (name: $0.key, value: $0.value) }, body: body, timeout: .seconds(60)))
        return (response.status, response.body, Dictionary(response.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 }))
    }

    /// An API call (`/api` + `path`), as the web gallery makes it.
    func api(_ method: String, _ path: String, query: [String: String] = [:], headers: [String: String] = [:], body: String? = nil, bytes: Data? = nil) async throws -> (status: Int, body: Data, headers: [String: String]) {
        var components = URLComponents()
        components.path = "/api" + path
        if !query.isEmpty { components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } }
        let target = components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        var headers = headers
        if body != nil, headers["content-type"] == nil { headers["content-type"] = "application/json" }
        return try await send(method, target, headers: headers, body: bytes ?? Data((body ?? "").utf8))
    }
}
