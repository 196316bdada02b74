#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An API Gateway HTTP API request, payload format 2.0. Header names arrive in lower case; repeated query
/// parameters are joined with commas in ``queryStringParameters`` (``rawQueryString`` keeps them apart).
struct APIGatewayV2Request: Codable, Sendable {
    struct Context: Codable, Sendable {
        struct HTTP: Codable, Sendable {
            var method: String
            var path: String
            var sourceIp: String?
            var userAgent: String?
        }

        var requestId: String
        var http: HTTP
        var routeKey: String?
        var stage: String?
        var timeEpoch: Int64?
    }

    var version: String?
    var routeKey: String?
    var rawPath: String
    var rawQueryString: String?
    var headers: [String: String]?
    var queryStringParameters: [String: String]?
    var pathParameters: [String: String]?
    var body: String?
    var isBase64Encoded: Bool?
    var requestContext: Context

    /// A header by case-insensitive name.
    func header(_ name: String) -> String? {
        headers?.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    /// The body's bytes (base64-decoded when API Gateway encoded it).
    var bodyData: Data? {
        guard let body else { return nil }
        return isBase64Encoded == true ? Data(base64Encoded: body) : Data(body.utf8)
    }
}

/// The answer to an HTTP API request (payload format 2.0).
struct APIGatewayV2Response: Codable, Sendable, Equatable {
    var statusCode: Int
    var headers: [String: String]?
    var body: String?
    var isBase64Encoded: Bool?
}
