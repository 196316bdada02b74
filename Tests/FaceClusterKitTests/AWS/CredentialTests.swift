@testable import FaceClusterKit
import Foundation
import Synchronization
import Testing

/// An HTTPTransport that answers from a script and records what it was asked.
final class ScriptedTransport: HTTPTransport {
    let responses: Mutex<[Result<HTTPResponse, HTTPTransportError>]>
    let requests = Mutex<[HTTPRequest]>([])

    init(_ responses: [Result<HTTPResponse, HTTPTransportError>]) { self.responses = Mutex(responses) }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        requests.withLock { $0.append(request) }
        let next = responses.withLock { $0.isEmpty ? .failure(.connectionFailed("script exhausted")) : $0.removeFirst() }
        return try next.get()
    }

    var sent: [HTTPRequest] { requests.withLock { $0 } }
}

@Suite("Credentials")
struct CredentialTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

    func temporaryFolder() throws -> URL {
        let url = Scratch.url("fck-creds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("environment: keys, session token and expiry, as a Lambda gets them")
    func environment() async throws {
        let credentials = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_SESSION_TOKEN": "token",
            "AWS_CREDENTIAL_EXPIRATION": "2026-11-27T23:00:00Z",
        ]).credentials()
        #expect(credentials.accessKeyID == "ASIAEXAMPLE" && credentials.sessionToken == "token")
        #expect(credentials.expiration == AWSDate.parseISO8601("2026-11-27T23:00:00Z"))
        await #expect(throws: CredentialError.notConfigured("environment variables")) {
            try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": ""]).credentials()
        }
        await #expect(throws: CredentialError.self) {
            try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKID"]).credentials()
        }
        let legacy = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "S", "AWS_SECURITY_TOKEN": "legacy",
        ]).credentials()
        #expect(legacy.sessionToken == "legacy")
    }

    @Test("shared files: AWS_PROFILE picks the profile; the credentials file wins over the config file")
    func profiles() async throws {
        let folder = try temporaryFolder()
        let credentialsFile = folder.appendingPathComponent("credentials"), configFile = folder.appendingPathComponent("config")
        try """
        # comment
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = \(Self.secret)

        [work]
        aws_access_key_id=AKIDWORK
        aws_secret_access_key=\(Self.secret)
        aws_session_token = worktoken
        """.write(to: credentialsFile, atomically: true, encoding: .utf8)
        try """
        [default]
        region = eu-west-1
        [profile work]
        region = us-east-2
        aws_access_key_id = AKIDIGNORED
        aws_secret_access_key = ignored
        s3 =
          addressing_style = path
        [profile config-only]
        aws_access_key_id = AKIDCONFIG
        aws_secret_access_key = \(Self.secret)
        [profile broken]
        aws_access_key_id = AKIDBROKEN
        """.write(to: configFile, atomically: true, encoding: .utf8)
        func provider(_ profile: String?) -> ProfileCredentialProvider {
            var environment = ["AWS_SHARED_CREDENTIALS_FILE": credentialsFile.path, "AWS_CONFIG_FILE": configFile.path]
            environment["AWS_PROFILE"] = profile
            return ProfileCredentialProvider(environment: environment)
        }
        #expect(try await provider(nil).credentials().accessKeyID == "AKIDDEFAULT")
        let work = try await provider("work").credentials()
        #expect(work.accessKeyID == "AKIDWORK" && work.sessionToken == "worktoken")
        #expect(try await provider("config-only").credentials().accessKeyID == "AKIDCONFIG")
        await #expect(throws: CredentialError.self) { try await provider("broken").credentials() }
        do {
            _ = try await provider("nobody").credentials()
            Issue.record("expected notConfigured")
        } catch CredentialError.notConfigured(let source) {
            #expect(source.contains("nobody"))
        }
        let configuration = try AWSConfiguration.fromEnvironment(["AWS_CONFIG_FILE": configFile.path, "AWS_PROFILE": "work"])
        #expect(configuration.region == "us-east-2")
    }

    @Test("container endpoint: relative URI, token file, retries on 5xx")
    func container() async throws {
        let folder = try temporaryFolder()
        let tokenFile = folder.appendingPathComponent("token")
        try "secret-token\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let document = #"{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"s","Token":"t","Expiration":"2026-11-28T00:00:00Z"}"#
        let transport = ScriptedTransport([.success(HTTPResponse(status: 500)), .failure(.timedOut(after: .seconds(2))), .success(HTTPResponse(status: 200, body: Data(document.utf8)))])
        var provider = ContainerCredentialProvider(
            environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile.path],
            transport: transport)
        provider.pause = .zero
        let credentials = try await provider.credentials()
        #expect(credentials.accessKeyID == "ASIACONTAINER" && credentials.sessionToken == "t")
        #expect(credentials.expiration == AWSDate.parseISO8601("2026-11-28T00:00:00Z"))
        #expect(transport.sent.count == 3)
        #expect(transport.sent[0].url.absoluteString == "http://169.254.170.2/v2/credentials/abc")
        #expect(transport.sent[0].headers.contains { $0.name == "Authorization" && $0.value == "secret-token" })
        #expect(transport.sent[0].timeout == .seconds(2))
    }

    @Test("container endpoint: unsafe URLs and tokens are refused; a 4xx fails at once")
    func containerRefusals() async throws {
        func provider(_ environment: [String: String], _ responses: [Result<HTTPResponse, HTTPTransportError>] = []) -> (ContainerCredentialProvider, ScriptedTransport) {
            let transport = ScriptedTransport(responses)
            var provider = ContainerCredentialProvider(environment: environment, transport: transport)
            provider.pause = .zero
            return (provider, transport)
        }
        await #expect(throws: CredentialError.self) {
            try await provider(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.169.254/latest"]).0.credentials()
        }
        await #expect(throws: CredentialError.self) {
            try await provider(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:8080/c", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "a\r\nX-Evil: 1"]).0.credentials()
        }
        let (forbidden, transport) = provider(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example.com/c"], [.success(HTTPResponse(status: 403))])
        await #expect(throws: CredentialError.self) { try await forbidden.credentials() }
        #expect(transport.sent.count == 1)
        await #expect(throws: CredentialError.notConfigured("container credentials endpoint")) { try await provider([:]).0.credentials() }
    }

    @Test("the chain takes the first configured source; a broken one stops it; the error names sources, never secrets")
    func chain() async throws {
        let folder = try temporaryFolder()
        let credentialsFile = folder.appendingPathComponent("credentials")
        try "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = \(Self.secret)\n".write(to: credentialsFile, atomically: true, encoding: .utf8)
        let files = ["AWS_SHARED_CREDENTIALS_FILE": credentialsFile.path, "AWS_CONFIG_FILE": folder.appendingPathComponent("none").path]
        let fromEnvironment = try await CredentialProviderChain.standard(
            environment: files.merging(["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": Self.secret]) { $1 }, transport: nil).credentials()
        #expect(fromEnvironment.accessKeyID == "AKIDENV")
        #expect(try await CredentialProviderChain.standard(environment: files, transport: nil).credentials().accessKeyID == "AKIDFILE")
        await #expect(throws: CredentialError.self) {
            try await CredentialProviderChain.standard(environment: files.merging(["AWS_ACCESS_KEY_ID": "AKIDHALF"]) { $1 }, transport: nil).credentials()
        }
        let empty = ["AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/c", "AWS_CONFIG_FILE": "/nonexistent/f"]
        do {
            _ = try await CredentialProviderChain.standard(environment: empty, transport: ScriptedTransport([])).credentials()
            Issue.record("expected noneFound")
        } catch let error as CredentialError {
            #expect(String(describing: error).contains("environment variables"))
            #expect(String(describing: error).contains("AWS_ACCESS_KEY_ID"))
        }
    }

    actor CountingProvider: CredentialProvider {
        var calls = 0
        var failing = false
        let clock: ManualWallClock
        init(clock: ManualWallClock) { self.clock = clock }
        func fail(_ value: Bool) { failing = value }
        func credentials() async throws -> AWSCredentials {
            calls += 1
            try await Task.sleep(for: .milliseconds(5))
            if failing { throw CredentialError.unavailable(source: "test", detail: "down") }
            return AWSCredentials(accessKeyID: "AKID\(calls)", secretAccessKey: "s", sessionToken: "t", expiration: clock.now().addingTimeInterval(3600))
        }
    }

    @Test("temporary credentials refresh before expiry; failures in the advisory window keep the old ones")
    func refreshing() async throws {
        let clock = ManualWallClock()
        let base = CountingProvider(clock: clock)
        let provider = RefreshingCredentialProvider(base, clock: clock)
        // Concurrent first callers share one fetch.
        async let a = provider.credentials()
        async let b = provider.credentials()
        #expect(try await [a.accessKeyID, b.accessKeyID] == ["AKID1", "AKID1"])
        #expect(await base.calls == 1)
        clock.advance(by: .seconds(40 * 60))
        #expect(try await provider.credentials().accessKeyID == "AKID1", "45 minutes from expiry: cached")
        clock.advance(by: .seconds(8 * 60))                    // 12 minutes left: advisory window
        await base.fail(true)
        #expect(try await provider.credentials().accessKeyID == "AKID1", "a failed advisory refresh keeps the old credentials")
        clock.advance(by: .seconds(3 * 60))                    // 9 minutes left: mandatory
        await #expect(throws: CredentialError.self) { try await provider.credentials() }
        await base.fail(false)
        #expect(try await provider.credentials().accessKeyID.hasPrefix("AKID"))
        #expect(try await provider.credentials().accessKeyID == (try await provider.credentials()).accessKeyID)
    }

    @Test("configuration: region order and endpoint overrides")
    func configuration() throws {
        let none = ["AWS_CONFIG_FILE": "/nonexistent"]
        #expect(try AWSConfiguration.fromEnvironment(none.merging(["AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "us-east-1"]) { $1 }).region == "eu-west-3")
        #expect(try AWSConfiguration.fromEnvironment(none.merging(["AWS_DEFAULT_REGION": "us-east-1"]) { $1 }).region == "us-east-1")
        #expect(throws: AWSConfigurationError.missingRegion) { try AWSConfiguration.fromEnvironment(none) }
        let local = try AWSConfiguration.fromEnvironment(none.merging(["AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:5077", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"]) { $1 })
        #expect(local.endpoint(for: "s3").absoluteString == "http://127.0.0.1:9000")
        #expect(local.endpoint(for: "dynamodb").absoluteString == "http://127.0.0.1:5077")
        #expect(try AWSConfiguration.fromEnvironment(none.merging(["AWS_REGION": "eu-west-1"]) { $1 }).endpoint(for: "dynamodb").absoluteString == "https://dynamodb.eu-west-1.amazonaws.com")
        #expect(throws: AWSConfigurationError.self) { try AWSConfiguration.fromEnvironment(none.merging(["AWS_REGION": "x", "AWS_ENDPOINT_URL": "not a url"]) { $1 }) }
    }
}

@Suite("Credentials over real HTTP")
struct ContainerCredentialsHTTPTests {
    @Test("the container provider fetches credentials from a local endpoint with the token from its file")
    func localEndpoint() async throws {
        let script = try #require(Bundle.module.url(forResource: "credentials_server", withExtension: "py", subdirectory: "Fixtures"))
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // The server writes its port to a file (reading a pipe that never closes can block on Linux).
        let portFile = Scratch.url("fck-port-\(UUID().uuidString)")
        server.arguments = ["python3", script.path, "Bearer local-token", portFile.path]
        // It serves until its standard input closes; its output goes nowhere, so no child can hold ours open.
        let lifeline = Pipe()
        server.standardInput = lifeline
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { try? lifeline.fileHandleForWriting.close() }
        var found: Int?
        for _ in 0..<100 where found == nil {
            found = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0) }
            if found == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let port = try #require(found)
        let tokenFile = Scratch.url("fck-token-\(UUID().uuidString)")
        try "Bearer local-token\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let environment = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(port)/v2/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile.path]
        let credentials = try await ContainerCredentialProvider(environment: environment, transport: AsyncHTTPClientTransport()).credentials()
        #expect(credentials.accessKeyID == "ASIALOCALHTTP" && credentials.sessionToken == "session")
        #expect(credentials.expiration == AWSDate.parseISO8601("2030-01-01T00:00:00Z"))
        var wrong = ContainerCredentialProvider(
            environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(port)/v2/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer wrong"],
            transport: AsyncHTTPClientTransport())
        wrong.pause = .zero
        await #expect(throws: CredentialError.self) { try await wrong.credentials() }
    }
}
