#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An error AWS answered with: the service, the error code without its namespace, the message, the request
/// id to quote to AWS support, and the HTTP status. Never holds credentials or signatures.
public struct AWSServiceError: Error, Hashable, Sendable, CustomStringConvertible {
    public var service: String
    public var code: String
    public var message: String
    public var requestID: String?
    public var statusCode: Int
    /// For DynamoDB's `TransactionCanceledException`: one code per action, in order (`None` for those that
    /// were fine, `ConditionalCheckFailed`, `TransactionConflict`, …).
    public var cancellationReasons: [String]

    public init(service: String, code: String, message: String, requestID: String? = nil, statusCode: Int, cancellationReasons: [String] = []) {
        self.service = service
        self.code = code
        self.message = message
        self.requestID = requestID
        self.statusCode = statusCode
        self.cancellationReasons = cancellationReasons
    }

    public var description: String {
        "\(service) \(code) (HTTP \(statusCode))\(message.isEmpty ? "" : ": \(message)")\(requestID.map { " [request id \($0)]" } ?? "")"
    }

    /// Throttling codes of the AWS standard retry mode.
    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]
    static let transientCodes: Set<String> = ["RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalError", "InternalServerError"]

    public var isThrottling: Bool { Self.throttlingCodes.contains(code) }

    /// Whether the standard retry mode retries it: throttling, transient codes, HTTP 500/502/503/504.
    public var isRetryable: Bool {
        isThrottling || Self.transientCodes.contains(code) || [500, 502, 503, 504].contains(statusCode)
    }

    /// Signature and key problems: the caller's credentials are wrong, not the request.
    public var isAuthentication: Bool {
        ["SignatureDoesNotMatch", "InvalidSignatureException", "InvalidClientTokenId", "UnrecognizedClientException",
         "InvalidAccessKeyId", "ExpiredToken", "ExpiredTokenException", "AuthFailure", "IncompleteSignature"].contains(code)
    }

    /// Reads an error response of any AWS protocol: JSON (`__type` with or without a namespace, `message` or
    /// `Message`), XML (`<Error>`, or `<ErrorResponse><Error>` as moto answers JSON services), or no body
    /// (HEAD): the code then comes from the status.
    static func parse(service: String, response: HTTPResponse) -> AWSServiceError {
        var code = response.header("x-amzn-ErrorType").map(Self.stripNamespace)
        var message = ""
        var reasons: [String] = []
        var requestID = response.header("x-amzn-RequestId") ?? response.header("x-amz-request-id")
        let body = [UInt8](response.body)
        if let first = body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) {
            if first == 0x7B, let json = try? JSONDecoder().decode(JSONErrorBody.self, from: response.body) {
                if let type = json.__type ?? json.code ?? json.Code { code = stripNamespace(type) }
                message = json.message ?? json.Message ?? ""
                reasons = (json.CancellationReasons ?? []).map { $0.Code ?? "None" }
            } else if first == 0x3C, let root = try? XMLElement.parse(body) {
                // <Error> (S3), <ErrorResponse><Error> or <ErrorResponse><Errors><Error> (query protocol, and
                // what moto answers for JSON services).
                let error = root.name == "Error" ? root : root.child("Error") ?? root.child("Errors")?.child("Error") ?? root
                code = error.value("Code") ?? code
                message = error.value("Message") ?? ""
                requestID = requestID ?? root.value("RequestId") ?? error.value("RequestId") ?? root.value("RequestID")
            }
        }
        let fallback = switch response.status {
        case 301: "PermanentRedirect"
        case 400: "BadRequest"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 412: "PreconditionFailed"
        default: "HTTP\(response.status)"
        }
        return AWSServiceError(
            service: service, code: code ?? fallback, message: message, requestID: requestID, statusCode: response.status,
            cancellationReasons: reasons)
    }

    private struct JSONErrorBody: Decodable {
        var __type: String?
        var code: String?
        var Code: String?
        var message: String?
        var Message: String?
        var CancellationReasons: [Reason]?
        struct Reason: Decodable { var Code: String? }
    }

    /// `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` → `ConditionalCheckFailedException`;
    /// anything after `:` (a URL some services append) is dropped too.
    static func stripNamespace(_ type: String) -> String {
        let name = type.split(separator: "#").last.map(String.init) ?? type
        return name.split(separator: ":").first.map(String.init) ?? name
    }
}
