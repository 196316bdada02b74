@testable import FaceClusterKit
import Foundation
import Testing

/// The moto_server instances `scripts/moto.sh` starts (via `scripts/test.sh`), read from the environment.
/// Without them the moto-backed tests do not run; under CI that is itself a failure (see `MotoTests`).
enum Moto {
    static let environment = ProcessInfo.processInfo.environment

    /// The server without signature checks.
    static let openURL: URL? = environment["FCK_MOTO_OPEN_URL"].flatMap(URL.init(string:))
    /// The server that verifies every signature, and the key created on it.
    static let authURL: URL? = environment["FCK_MOTO_AUTH_URL"].flatMap(URL.init(string:))
    static let authCredentials: AWSCredentials? = environment["FCK_MOTO_AUTH_ACCESS_KEY"].flatMap { key in
        environment["FCK_MOTO_AUTH_SECRET"].map { AWSCredentials(accessKeyID: key, secretAccessKey: $0) }
    }

    static var available: Bool { openURL != nil && authURL != nil && authCredentials != nil }

    /// A client for one of the servers; the retry policy does not sleep.
    static func client(_ url: URL, credentials: AWSCredentials = AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "test")) -> AWSClient {
        AWSClient(
            configuration: AWSConfiguration(region: "us-east-1", endpoints: ["s3": url, "dynamodb": url]),
            credentials: StaticCredentialProvider(credentials), transport: AsyncHTTPClientTransport(),
            retryPolicy: RetryPolicy(sleep: { _ in }))
    }

    /// New tables on the signature-checking server.
    static func freshTables() async throws -> DynamoDBMetadataStore {
        let store = DynamoDBMetadataStore(
            client: client(authURL!, credentials: authCredentials!), tablePrefix: "fck-\(UUID().uuidString.lowercased().prefix(13))")
        try await store.createTables()
        return store
    }

    /// A new bucket on the open server.
    static func freshBucket() async throws -> S3PhotoStore {
        let store = S3PhotoStore(bucket: "fck-\(UUID().uuidString.lowercased().prefix(18))", client: client(openURL!))
        try await store.createBucket()
        return store
    }
}
