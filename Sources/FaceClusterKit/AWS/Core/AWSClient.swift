#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// What every AWS service client shares: configuration, credentials, the transport and the retry policy.
/// Create one per process (it is cheap to copy) and give it to ``S3PhotoStore`` and the other clients.
public struct AWSClient: Sendable {
    public let configuration: AWSConfiguration
    public let credentials: any CredentialProvider
    public let transport: any HTTPTransport
    public let retryPolicy: RetryPolicy
    public let clock: any WallClock
    /// How long one attempt waits for its whole answer unless a call says otherwise (30 s; a local endpoint that
    /// runs the face model on a busy machine may need more).
    public let requestTimeout: Duration

    public init(
        configuration: AWSConfiguration, credentials: any CredentialProvider, transport: any HTTPTransport,
        retryPolicy: RetryPolicy = RetryPolicy(), clock: any WallClock = SystemWallClock(), requestTimeout: Duration = .seconds(30)
    ) {
        self.configuration = configuration
        self.credentials = credentials
        self.transport = transport
        self.retryPolicy = retryPolicy
        self.clock = clock
        self.requestTimeout = requestTimeout
    }

    /// How the body is covered by the signature.
    public enum PayloadSigning: Sendable {
        /// SHA-256 of the body.
        case signed
        /// `UNSIGNED-PAYLOAD` (S3 over HTTPS: TLS protects the body; saves hashing large photos).
        case unsigned
    }

    /// One AWS operation: signs and sends `method path?query`, retrying under ``retryPolicy``. Returns a 2xx
    /// response; throws ``AWSServiceError`` for an error answer, ``HTTPTransportError`` when no answer came
    /// after the retries, ``CredentialError`` when there are no credentials.
    public func send(
        service: String, method: String, endpoint: URL? = nil, path: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [], body: Data = Data(), payload: PayloadSigning = .signed,
        timeout: Duration? = nil
    ) async throws -> HTTPResponse {
        let timeout = timeout ?? requestTimeout
        let base = endpoint ?? configuration.endpoint(for: service)
        guard let scheme = base.scheme, let host = base.host else { throw AWSConfigurationError.invalidEndpoint(base.absoluteString) }
        let defaultPort = scheme == "https" ? 443 : 80
        let hostHeader = base.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host
        let queryString = SigV4Signer.queryString(query)
        guard let url = URL(string: "\(scheme)://\(hostHeader)\(path)\(queryString.isEmpty ? "" : "?" + queryString)") else {
            throw AWSConfigurationError.invalidEndpoint("\(base)\(path)")
        }
        let payloadHash = payload == .signed ? SHA256.hash(data: body).hexString : SigV4Signer.unsignedPayload
        let invocation = UUID().uuidString.lowercased()
        let maxAttempts = retryPolicy.maxAttempts
        return try await retryPolicy.run { attempt in
            let signer = SigV4Signer(credentials: try await credentials.credentials(), region: configuration.region, service: service)
            let request = SignableRequest(method: method, host: hostHeader, path: path, query: query, headers: headers)
            var sent = headers + signer.signatureHeaders(for: request, payloadHash: payloadHash, date: clock.now())
            sent += [
                ("User-Agent", "FaceClusterKit/0.1 swift"), ("amz-sdk-invocation-id", invocation),
                ("amz-sdk-request", "attempt=\(attempt); max=\(maxAttempts)"),
            ]
            let response = try await transport.send(HTTPRequest(method: method, url: url, headers: sent, body: body, timeout: timeout))
            guard (200..<300).contains(response.status) else { throw AWSServiceError.parse(service: service, response: response) }
            return response
        }
    }
}
