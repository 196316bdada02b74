import ArgumentParser
import FaceClusterKit
import FaceClusterLocal
import FaceClusterServer
import Foundation

/// `facecluster rekognition-server`: a Rekognition-compatible endpoint backed by the embedded engine.
struct RekognitionServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rekognition-server",
        abstract: "Answer Amazon Rekognition's face operations on this machine, with the embedded engine (dlib).",
        discussion: """
            Any SDK or the AWS CLI pointed at the printed endpoint (--endpoint-url) gets real faces: \
            collections, IndexFaces, SearchFaces(ByImage), DetectFaces, ListFaces, DeleteFaces and users \
            (CreateUser, AssociateFaces, SearchUsers, …). Requests must be SigV4-signed with the key pair given \
            (default test/test, as moto). Similarities are on Rekognition's 0–100 scale from dlib's distance \
            (0.55 is 90); FaceModelVersion says it is dlib. With --s3-endpoint, Image.S3Object is read from that \
            S3 (moto). Collections are kept in --store, or in memory without it. Ctrl-C stops.
            """)

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(parsing: .unconditional, help: "The port to listen on (0: any free port).")
    var port = 4599

    @Option(help: "A folder for the collections (one SQLite file each); without it they live in memory.")
    var store: String?

    @Option(help: "The access key id requests must be signed with.")
    var accessKeyId = "test"

    @Option(help: "The secret access key requests must be signed with.")
    var secretAccessKey = "test"

    @Option(help: "An S3 endpoint to read Image.S3Object from (moto: http://127.0.0.1:5000), with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.")
    var s3Endpoint: String?

    @Option(help: "The region S3 requests are signed for.")
    var region = ProcessInfo.processInfo.environment["AWS_DEFAULT_REGION"] ?? "us-east-1"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        if let s3Endpoint, URL(string: s3Endpoint)?.scheme?.hasPrefix("http") != true {
            throw ValidationError("--s3-endpoint must be an http(s) URL, like http://127.0.0.1:5000")
        }
    }

    func run() async throws {
        var reader: LocalRekognition.ObjectReader?
        if let s3Endpoint, let url = URL(string: s3Endpoint) {
            let client = AWSClient(
                configuration: AWSConfiguration(region: region, endpoints: ["s3": url]),
                credentials: CredentialProviderChain([EnvironmentCredentialProvider(), StaticCredentialProvider(AWSCredentials(accessKeyID: "test", secretAccessKey: "test"))]),
                transport: AsyncHTTPClientTransport())
            reader = { bucket, key in try await S3PhotoStore(bucket: bucket, client: client).get(key).data }
        }
        let service: LocalRekognition
        do {
            service = try LocalRekognition(directory: store.map { URL(fileURLWithPath: $0) }, objectReader: reader, region: region)
        } catch let error as LocalEngineError {
            throw CLIFailure(message: "error: \(error.description)")
        } catch let error as LibraryFileError {
            throw CLIFailure(message: "error: \(error.description)")
        }
        let endpoint = RekognitionEndpoint(
            service: service, configuration: .init(host: host, port: port, accessKeyID: accessKeyId, secretAccessKey: secretAccessKey))
        let stop = StopSignal.install(secondMessage: "\nStopped at once.") { _ in printError("Stopping…") }
        let store = store
        let serving = Task {
            try await endpoint.run { port in
                let lines = [
                    "Rekognition: http://\(["0.0.0.0", "::"].contains(host) ? "127.0.0.1" : host):\(port)",
                    "Collections: \(store ?? "in memory"). Sign with \(accessKeyId)/…; Ctrl-C stops.",
                ]
                FileHandle.standardOutput.write(Data(lines.map { $0 + "\n" }.joined().utf8))
            }
        }
        exitIfServingFails(serving, stop: stop)
        _ = await stop.wait()
        serving.cancel()
        _ = try? await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = await serving.result }
            group.addTask { try await Task.sleep(for: Ingest.stopGrace) }
            try await group.next()
            group.cancelAll()
        }
        throw ExitCode(stop.exitStatus ?? 0)
    }
}
