#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An access key, its secret and, for temporary credentials (a Lambda's role, a container's), a session token
/// and an expiry. Printing one never shows the secret or the token.
public struct AWSCredentials: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; `nil` for long-term keys.
    public var expiration: Date?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String {
        let token = sessionToken == nil ? "none" : "<redacted>"
        let expiry = expiration.map { " expires \(Int($0.timeIntervalSince1970))" } ?? ""
        return "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>, sessionToken: \(token)\(expiry))"
    }

    public var debugDescription: String { description }
}
