#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where AWS credentials come from.
public protocol CredentialProvider: Sendable {
    /// Current credentials. Throws ``CredentialError/notConfigured(_:)`` when this source has none (a chain
    /// then tries the next), any other ``CredentialError`` when it has some but they cannot be had.
    func credentials() async throws -> AWSCredentials
}

/// Why credentials could not be had. Messages name the source and never contain a secret.
public enum CredentialError: Error, Hashable, Sendable, CustomStringConvertible {
    case notConfigured(String)
    case invalid(source: String, detail: String)
    case unavailable(source: String, detail: String)
    /// Every provider of a chain was tried.
    case noneFound(tried: [String])

    public var description: String {
        switch self {
        case .notConfigured(let source): "\(source): not configured"
        case .invalid(let source, let detail): "\(source): \(detail)"
        case .unavailable(let source, let detail): "\(source) unavailable: \(detail)"
        case .noneFound(let tried):
            "no AWS credentials found (tried \(tried.joined(separator: ", "))). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure`."
        }
    }
}

/// Fixed credentials (tests, or keys a caller already has).
public struct StaticCredentialProvider: CredentialProvider {
    public let value: AWSCredentials
    public init(_ credentials: AWSCredentials) { value = credentials }
    public func credentials() async throws -> AWSCredentials { value }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` (or the legacy `AWS_SECURITY_TOKEN`),
/// `AWS_CREDENTIAL_EXPIRATION`: what a Lambda function receives for its role.
public struct EnvironmentCredentialProvider: CredentialProvider {
    public let environment: [String: String]

    public init(environment: [String: String] = ProcessEnvironment.current) { self.environment = environment }

    public func credentials() async throws -> AWSCredentials {
        let source = "environment variables"
        let key = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        guard key != nil || secret != nil else { throw CredentialError.notConfigured(source) }
        guard let key, let secret else {
            throw CredentialError.invalid(source: source, detail: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set")
        }
        let token = environment["AWS_SESSION_TOKEN"] ?? environment["AWS_SECURITY_TOKEN"]
        let expiration = try environment["AWS_CREDENTIAL_EXPIRATION"].map { text in
            guard let date = AWSDate.parseISO8601(text) else {
                throw CredentialError.invalid(source: source, detail: "AWS_CREDENTIAL_EXPIRATION is not an ISO-8601 time")
            }
            return date
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token.flatMap { $0.isEmpty ? nil : $0 }, expiration: expiration)
    }
}

/// Tries providers in order and returns the first credentials found. A provider that is not configured is
/// skipped; one that is configured but fails stops the chain with its error (as botocore does: a broken
/// profile should not silently fall through to other credentials).
public struct CredentialProviderChain: CredentialProvider {
    public let providers: [any CredentialProvider]

    public init(_ providers: [any CredentialProvider]) { self.providers = providers }

    /// The standard order: environment, shared files (`AWS_PROFILE`), container endpoint.
    public static func standard(
        environment: [String: String] = ProcessEnvironment.current, transport: (any HTTPTransport)?
    ) -> CredentialProviderChain {
        var providers: [any CredentialProvider] = [
            EnvironmentCredentialProvider(environment: environment), ProfileCredentialProvider(environment: environment),
        ]
        if let transport { providers.append(ContainerCredentialProvider(environment: environment, transport: transport)) }
        return CredentialProviderChain(providers)
    }

    public func credentials() async throws -> AWSCredentials {
        var tried: [String] = []
        for provider in providers {
            do {
                return try await provider.credentials()
            } catch CredentialError.notConfigured(let source) {
                tried.append(source)
            }
        }
        throw CredentialError.noneFound(tried: tried)
    }
}

/// The process environment, read once.
public enum ProcessEnvironment {
    public static var current: [String: String] { ProcessInfo.processInfo.environment }
}
