import Crypto
import FaceClusterKit
import FaceClusterLocal
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `facecluster rekognition-server`: Amazon Rekognition's JSON 1.1 protocol over HTTP, answered by
/// ``LocalRekognition`` (the embedded engine), for SDKs and the serverless stack on one machine.
///
/// What it checks before an operation runs, as the service does: `POST /`, an `X-Amz-Target` of
/// `RekognitionService.<Operation>`, the `application/x-amz-json-1.1` content type, and a SigV4 `Authorization`
/// for the service `rekognition` signed with the configured key pair (any region): the signature is computed
/// again over the headers it names and the body's SHA-256 (``SigV4Signer/expectedSignature(ofReceived:payloadHash:amzDate:)``)
/// and compared in constant time; `X-Amz-Date` must be within 15 minutes of now. Failures are the service's:
/// MissingAuthenticationTokenException (403), UnrecognizedClientException (403, an unknown access key),
/// InvalidSignatureException (403), UnknownOperationException (400), SerializationException (400).
public struct RekognitionEndpoint: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// The one key pair requests must be signed with (moto's and the AWS CLI's test defaults: `test`/`test`).
        public var accessKeyID: String
        public var secretAccessKey: String

        public init(host: String = "127.0.0.1", port: Int = 4599, accessKeyID: String = "test", secretAccessKey: String = "test") {
            self.host = host
            self.port = port
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
        }
    }

    /// The largest request body read: a 5 MB image is 6.7 MB in base64, inside its JSON.
    public static let maximumBodyBytes = 8 * 1_048_576
    /// How far `X-Amz-Date` may be from now (AWS: 15 minutes).
    public static let allowedClockSkew: TimeInterval = 15 * 60

    public let configuration: Configuration
    public let service: LocalRekognition
    let logger: Logger

    public init(service: LocalRekognition, configuration: Configuration, logger: Logger = Logger(label: "facecluster.rekognition")) {
        self.service = service
        self.configuration = configuration
        self.logger = logger
    }

    /// Serves until the task is cancelled; `onRunning` gets the port it listens on (useful with port 0).
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let endpoint = self
        try await runHTTPServer(
            host: configuration.host, port: configuration.port, serverName: "facecluster-rekognition", logger: logger, onRunning: onRunning
        ) { request in await endpoint.respond(to: request) }
    }

    func respond(to request: Request) async -> Response {
        let (status, body) = await answer(request)
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/x-amz-json-1.1", HTTPField.Name("x-amzn-RequestId")!: UUID().uuidString.lowercased()],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    private func answer(_ request: Request) async -> (Int, Data) {
        func fault(_ status: Int, _ code: String, _ message: String) -> (Int, Data) {
            (status, LocalRekognition.errorBody(LocalRekognition.Fault(status, code, message)))
        }
        guard request.method == .post, request.uri.path == "/" else {
            return fault(404, "UnknownOperationException", "Rekognition answers POST / only")
        }
        guard let target = request.headers[HTTPField.Name("X-Amz-Target")!], target.hasPrefix("RekognitionService."),
              target.count > "RekognitionService.".count
        else { return fault(400, "UnknownOperationException", "The X-Amz-Target header is missing or names another service") }
        let body: Data
        do {
            body = Data(buffer: try await request.body.collect(upTo: Self.maximumBodyBytes))
        } catch {
            return fault(400, "ImageTooLargeException", "The request is larger than \(Self.maximumBodyBytes / 1_048_576) MB")
        }
        if let failure = checkSignature(request, body: body) { return fault(failure.status, failure.code, failure.message) }
        guard request.headers[.contentType]?.hasPrefix("application/x-amz-json-1.1") == true else {
            return fault(400, "SerializationException", "The content type must be application/x-amz-json-1.1")
        }
        let operation = String(target.dropFirst("RekognitionService.".count))
        let (status, answer) = await service.handle(operation, body)
        if status >= 500 { logger.error("\(operation) failed: \(String(decoding: answer, as: UTF8.self))") }
        return (status, answer)
    }

    /// The SigV4 check; `nil` when the request is signed with the configured key pair.
    func checkSignature(_ request: Request, body: Data) -> LocalRekognition.Fault? {
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("AWS4-HMAC-SHA256 ") else {
            return .init(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        let scope = fields["Credential"]?.split(separator: "/").map(String.init) ?? []
        guard scope.count == 5, let signedHeaders = fields["SignedHeaders"], let signature = fields["Signature"],
              let amzDate = request.headers[HTTPField.Name("X-Amz-Date")!]
        else { return .init(400, "IncompleteSignatureException", "The Authorization header lacks Credential, SignedHeaders or Signature, or X-Amz-Date is missing") }
        guard scope[0] == configuration.accessKeyID else {
            return .init(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
        }
        guard scope[3] == "rekognition", scope[4] == "aws4_request", amzDate.hasPrefix(scope[1]) else {
            return .init(403, "InvalidSignatureException", "Credential should be scoped to a valid region, the service rekognition and the date of X-Amz-Date.")
        }
        guard let date = AWSDate.parseAmzDate(amzDate), abs(date.timeIntervalSinceNow) <= Self.allowedClockSkew else {
            return .init(403, "InvalidSignatureException", "Signature expired or not yet valid: X-Amz-Date \(amzDate) is more than 15 minutes from the time of this endpoint.")
        }
        let names = signedHeaders.split(separator: ";").map(String.init)
        guard names.contains("host") else { return .init(403, "InvalidSignatureException", "The host header must be signed.") }
        var headers: [(name: String, value: String)] = []
        for name in names where name != "host" {
            guard let field = HTTPField.Name(name) else { return .init(403, "InvalidSignatureException", "Signed header \(name) is not a header name.") }
            let values = request.headers[values: field]
            guard !values.isEmpty else { return .init(403, "InvalidSignatureException", "Signed header \(name) is missing.") }
            headers += values.map { (name, $0) }
        }
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: configuration.accessKeyID, secretAccessKey: configuration.secretAccessKey),
            region: scope[2], service: "rekognition")
        let query = request.uri.query.map { APIRequest.query(parsing: $0).map { (name: $0.key, value: $0.value) } } ?? []
        let signable = SignableRequest(
            method: request.method.rawValue, host: request.head.authority ?? "", path: request.uri.path, query: query, headers: headers)
        let payloadHash = SHA256.hash(data: body).hexString
        let expected = signer.expectedSignature(ofReceived: signable, payloadHash: payloadHash, amzDate: amzDate)
        guard expected.signedHeaders == signedHeaders, URLSigner.constantTimeEqual(expected.signature, signature) else {
            return .init(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
        }
        return nil
    }
}
