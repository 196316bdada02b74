#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The container credentials endpoint (ECS tasks, SnapStart Lambdas, EKS Pod Identity):
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on 169.254.170.2) or `AWS_CONTAINER_CREDENTIALS_FULL_URI`
/// (https anywhere; plain http only to loopback and the link-local agents), with the `Authorization` token
/// from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
/// Each fetch: 2 s timeout, up to 3 attempts, 1 s apart (botocore's values).
public struct ContainerCredentialProvider: CredentialProvider {
    public let environment: [String: String]
    public let transport: any HTTPTransport
    public var attempts = 3
    public var pause: Duration = .seconds(1)

    static let allowedHTTPHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]", "localhost", "::1", "[::1]"]

    public init(environment: [String: String] = ProcessEnvironment.current, transport: any HTTPTransport) {
        self.environment = environment
        self.transport = transport
    }

    public func credentials() async throws -> AWSCredentials {
        let source = "container credentials endpoint"
        let url: URL
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            guard let full = URL(string: "http://169.254.170.2" + relative) else {
                throw CredentialError.invalid(source: source, detail: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a path")
            }
            url = full
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            guard let parsed = URL(string: full), let host = parsed.host, ["http", "https"].contains(parsed.scheme ?? "") else {
                throw CredentialError.invalid(source: source, detail: "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL")
            }
            guard parsed.scheme == "https" || Self.allowedHTTPHosts.contains(host) || host.hasPrefix("127.") else {
                throw CredentialError.invalid(source: source, detail: "plain http is only allowed to loopback or the container agent, not \(host)")
            }
            url = parsed
        } else {
            throw CredentialError.notConfigured(source)
        }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let token = try authorizationToken(source: source) { headers.append(("Authorization", token)) }

        var lastProblem = "no attempt made"
        for attempt in 1...max(attempts, 1) {
            do {
                let response = try await transport.send(HTTPRequest(method: "GET", url: url, headers: headers, timeout: .seconds(2)))
                guard response.status == 200 else {
                    lastProblem = "HTTP \(response.status)"
                    if (400..<500).contains(response.status) { break }
                    throw HTTPTransportError.connectionFailed(lastProblem)
                }
                return try Self.decode(response.body, source: source)
            } catch let error as CredentialError {
                throw error
            } catch {
                lastProblem = String(describing: error)
                if attempt < attempts { try await Task.sleep(for: pause) }
            }
        }
        throw CredentialError.unavailable(source: source, detail: lastProblem)
    }

    private func authorizationToken(source: String) throws -> String? {
        var token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !file.isEmpty {
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: file)) else {
                throw CredentialError.invalid(source: source, detail: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
            }
            token = String(decoding: data, as: UTF8.self).trimmingWhitespace()
        }
        guard let token, !token.isEmpty else { return nil }
        guard !token.contains("\r") && !token.contains("\n") else {
            throw CredentialError.invalid(source: source, detail: "the authorization token contains a line break")
        }
        return token
    }

    struct Payload: Decodable {
        var AccessKeyId: String
        var SecretAccessKey: String
        var Token: String?
        var Expiration: String?
    }

    static func decode(_ body: Data, source: String) throws -> AWSCredentials {
        guard let payload = try? JSONDecoder().decode(Payload.self, from: body) else {
            throw CredentialError.invalid(source: source, detail: "the response is not a credentials document")
        }
        return AWSCredentials(
            accessKeyID: payload.AccessKeyId, secretAccessKey: payload.SecretAccessKey, sessionToken: payload.Token,
            expiration: payload.Expiration.flatMap(AWSDate.parseISO8601))
    }
}
