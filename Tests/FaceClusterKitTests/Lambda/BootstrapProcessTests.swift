import FaceClusterDoubles
@testable import FaceClusterKit
@testable import FaceClusterLambda
import Foundation
import Testing

/// The `bootstrap` executable as Lambda runs it: a process whose environment names the Runtime API (the
/// double), the handler and the AWS endpoints (moto and the Rekognition double).
@Suite("bootstrap process against the Runtime API double", .enabled(if: Moto.available, "needs moto_server: run scripts/test.sh"), .serialized)
struct BootstrapProcessTests {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("bootstrap")
    }

    /// A complete function environment on the local peers.
    static func environment(runtime: RuntimeAPIDouble, handler: String) async throws -> [String: String] {
        let raw = try await Moto.freshBucket(), processed = try await Moto.freshBucket(), tables = try await Moto.freshTables()
        let rekognition = try await RekognitionDouble.shared.value
        let collection = "bootstrap-\(UUID().uuidString)"
        try await RekognitionFaceIndex(rekognition: rekognition.client(), collectionID: collection).createCollection()
        return [
            "AWS_LAMBDA_RUNTIME_API": runtime.address, "_HANDLER": handler, "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": Moto.authCredentials!.accessKeyID, "AWS_SECRET_ACCESS_KEY": Moto.authCredentials!.secretAccessKey,
            "AWS_ENDPOINT_URL_S3": Moto.openURL!.absoluteString, "AWS_ENDPOINT_URL_DYNAMODB": Moto.authURL!.absoluteString,
            "AWS_ENDPOINT_URL_REKOGNITION": rekognition.endpoint.absoluteString,
            "RAW_BUCKET": raw.location, "PROCESSED_BUCKET": processed.location,
            "TABLE_PREFIX": String(tables.photosTable.dropLast("-photos".count)), "COLLECTION_ID": collection,
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
    }

    static func launch(_ environment: [String: String]) throws -> Process {
        let process = Process()
        process.executableURL = binary
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func exitStatus(of process: Process, within timeout: Duration = .seconds(10)) async -> Int32? {
        let start = ContinuousClock.now
        while process.isRunning && ContinuousClock.now - start < timeout { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { process.terminate(); return nil }
        return process.terminationStatus
    }

    @Test("_HANDLER=api: a request in, the API's answer out; a failing Runtime API makes it exit")
    func api() async throws {
        let runtime = try await RuntimeAPIDouble.start()
        let process = try Self.launch(try await Self.environment(runtime: runtime, handler: "api"))
        let request = try JSONSerialization.data(withJSONObject: [
            "version": "2.0", "rawPath": "/people", "rawQueryString": "",
            "requestContext": ["requestId": "api-1", "http": ["method": "GET", "path": "/people"]],
        ])
        await runtime.state.push(.init(requestID: "invocation-1", body: request))
        let posted = await runtime.posted(atLeast: 1)
        let response = try JSONDecoder().decode(APIGatewayV2Response.self, from: try #require(posted.first).body)
        #expect(posted.first?.kind == .response && response.statusCode == 200 && response.body == #"{"people":[]}"#)
        await runtime.state.close()
        #expect(await Self.exitStatus(of: process) == 1)
    }

    @Test("SIGTERM while idle: the process leaves at once with 143")
    func sigtermWhileIdle() async throws {
        let runtime = try await RuntimeAPIDouble.start()
        let process = try Self.launch(try await Self.environment(runtime: runtime, handler: "api"))
        try await Task.sleep(for: .milliseconds(500))  // set-up done, waiting for the next event
        process.terminate()
        #expect(await Self.exitStatus(of: process, within: .seconds(5)) == 143)
    }

    @Test("SIGTERM in the middle of a photo: the photo is handed back (pending, no lease), the process leaves with 143")
    func sigtermMidPhoto() async throws {
        let runtime = try await RuntimeAPIDouble.start()
        var environment = try await Self.environment(runtime: runtime, handler: "ingest")
        // A Rekognition whose IndexFaces takes 10 minutes, so the signal lands while it is on its way.
        let slow = try await RekognitionDouble.start(slowing: ["IndexFaces"], by: .seconds(600))
        let raw = S3PhotoStore(bucket: try #require(environment["RAW_BUCKET"]), client: Moto.client(Moto.openURL!))
        await slow.state.register(raw, as: raw.location)
        try await RekognitionFaceIndex(rekognition: slow.client(), collectionID: try #require(environment["COLLECTION_ID"])).createCollection()
        environment["AWS_ENDPOINT_URL_REKOGNITION"] = slow.endpoint.absoluteString
        // A real JPEG (the bootstrap cuts thumbnails with libjpeg-turbo) whose comment holds the scene the double reads.
        let scene = SyntheticPhoto(width: 400, height: 300, faces: [Identity(1).face(Layout.box(0))])
        let jpeg = try JPEGEncoding.inserting(
            comment: scene.encoded(), into: JPEGEncoding.encode(rgb: [UInt8](repeating: 128, count: 400 * 300 * 3), width: 400, height: 300))
        try await raw.put(jpeg, at: "uploads/slow.jpg", contentType: "image/jpeg")
        let metadata = DynamoDBMetadataStore(
            client: Moto.client(Moto.authURL!, credentials: Moto.authCredentials!), tablePrefix: try #require(environment["TABLE_PREFIX"]))
        let id = PhotoID(PhotoReference(store: raw.location, key: "uploads/slow.jpg"))

        let process = try Self.launch(environment)
        let body = try LambdaStack.json(["Records": [LambdaStack.s3Record(bucket: raw.location, key: "uploads/slow.jpg")]])
        await runtime.state.push(.init(requestID: "ingest-1", body: try LambdaStack.sqs([("m-1", body)]), deadline: Date().addingTimeInterval(600)))
        // IndexFaces on its way (the photo is claimed before it): now is mid-photo.
        for _ in 0..<6000 where await !slow.state.arrived.contains("IndexFaces") { try await Task.sleep(for: .milliseconds(20)) }
        try #require(await slow.state.arrived.contains("IndexFaces"), "the function never reached IndexFaces")
        process.terminate()
        #expect(await Self.exitStatus(of: process, within: .seconds(6)) == 143)
        let handedBack = try #require(try await metadata.photo(id))
        #expect(handedBack.status == .pending && handedBack.lease == nil, "\(handedBack.status)")
    }

    @Test("a missing setting is reported to init/error, naming it, and the process exits")
    func initError() async throws {
        let runtime = try await RuntimeAPIDouble.start()
        var environment = try await Self.environment(runtime: runtime, handler: "ingest")
        environment["RAW_BUCKET"] = nil
        let process = try Self.launch(environment)
        #expect(await Self.exitStatus(of: process) == 1)
        let posted = await runtime.state.posted
        #expect(posted.map(\.kind) == [.initError])
        let message = String(decoding: posted.first?.body ?? Data(), as: UTF8.self)
        #expect(message.contains("RAW_BUCKET"))
    }
}
