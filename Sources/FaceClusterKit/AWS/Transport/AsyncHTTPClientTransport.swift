#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// ``HTTPTransport`` over AsyncHTTPClient (SwiftNIO): keep-alive connection pools, TLS with the system's
/// CA bundle, and no libcurl or ICU, so it links statically into the Lambda binary.
public struct AsyncHTTPClientTransport: HTTPTransport {
    public let client: HTTPClient
    /// Responses larger than this are refused (a photo is at most 15 MB for Rekognition).
    public var maximumBodySize = 64 * 1024 * 1024

    /// Uses AsyncHTTPClient's process-wide shared client unless given one.
    public init(client: HTTPClient = .shared) { self.client = client }

    /// A transport of its own for calls that wait as long as they must (the Lambda Runtime API's `next`): no
    /// read timeout. The shared client gives up on a response after 90 s of silence, which made an idle
    /// `bootstrap` leave every 90 s under the local Lambda runner, and could after a thaw on Lambda itself.
    public static func longPolling() -> AsyncHTTPClientTransport {
        AsyncHTTPClientTransport(client: HTTPClient(configuration: .init(timeout: .init(connect: .seconds(10), read: nil))))
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if !request.body.isEmpty || ["PUT", "POST"].contains(request.method) {
            outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        }
        let timeout = TimeAmount.nanoseconds(Int64(request.timeout.components.seconds) * 1_000_000_000 + request.timeout.components.attoseconds / 1_000_000_000)
        do {
            let response = try await client.execute(outgoing, timeout: timeout)
            let body = try await response.body.collect(upTo: maximumBodySize)
            return HTTPResponse(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                body: Data(body.readableBytesView))
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            throw HTTPTransportError.timedOut(after: request.timeout)
        } catch let error as HTTPTransportError {
            throw error
        } catch {
            throw HTTPTransportError.connectionFailed(String(describing: error))
        }
    }
}
