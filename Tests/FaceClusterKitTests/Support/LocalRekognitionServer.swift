@testable import FaceClusterKit
import FaceClusterLocal
import FaceClusterServer
import AsyncHTTPClient
import Foundation

/// `facecluster rekognition-server` in this process (collections in memory, `S3Object` images read from moto's
/// open server when it runs), started once on a free port for the whole test run.
enum LocalRekognitionServer {
    static let shared = Task<URL, any Error> {
        var reader: LocalRekognition.ObjectReader?
        if let moto = Moto.openURL {
            let client = Moto.client(moto)
            reader = { bucket, key in try await S3PhotoStore(bucket: bucket, client: client).get(key).data }
        }
        let endpoint = RekognitionEndpoint(service: try LocalRekognition(directory: nil, objectReader: reader), configuration: .init(port: 0))
        let port = AsyncStream<Int>.makeStream()
        Task { try await endpoint.run { port.continuation.yield($0) } }
        for await bound in port.stream { return URL(string: "http://127.0.0.1:\(bound)")! }
        throw CancellationError()
    }

    /// One client for every test, without the shared client's 90 s read timeout (which cut the 600 s below short),
    /// and with enough connections that requests do not queue for one past the connect timeout (the pool's default
    /// of 8 per host and 10 s failed CI with `getConnectionFromPoolTimeout` while the whole suite ran at once).
    static let transport: AsyncHTTPClientTransport = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(600), read: nil))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return AsyncHTTPClientTransport(client: HTTPClient(configuration: configuration))
    }()

    /// A Rekognition client for the endpoint, signed with `secret` (the endpoint knows `test`/`test`).
    static func client(secret: String = "test", clock: any WallClock = SystemWallClock()) async throws -> RekognitionClient {
        let url = try await shared.value
        return RekognitionClient(client: AWSClient(
            configuration: AWSConfiguration(region: "eu-west-1", endpoints: ["rekognition": url]),
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "test", secretAccessKey: secret)),
            transport: transport, retryPolicy: RetryPolicy(maxAttempts: 1, sleep: { _ in }), clock: clock,
            // The whole test suite runs at once on 2 cores: dlib answers queue behind each other and the other suites.
            requestTimeout: .seconds(600)))
    }
}

/// Real faces for the conformance scenes: identity n is one photo of the n-th labeled person (150 × 150 crops
/// whose face dlib boxes at 72 % of the side, 14 % in), scaled so that box lands on the scene's box, on gray.
let realFaceRenderer: SceneRenderer = { scene in
    let chosen = ["John_Salley/000179_02159509.jpg", "John_Savage/000274_01099061.jpg", "John_Schneider/000288_00925786.jpg",
                  "John_Shimkus/000375_03227651.jpg", "John_Simm/000297_00470170.jpg"]
    var canvas = PixelBuffer(width: scene.width, height: scene.height, pixels: [UInt8](repeating: 128, count: scene.width * scene.height * 3))
    for face in scene.faces {
        let source = JPEGFactory.decode(try Data(contentsOf: LabeledSet.directory.appendingPathComponent(chosen[(face.identity.number - 1) % chosen.count])))
        let box = face.box.pixels(inWidth: scene.width, height: scene.height)
        let side = (Double(box.width) * Double(box.height)).squareRoot() / 0.72
        let (originX, originY) = (Double(box.x) + Double(box.width) / 2 - side / 2, Double(box.y) + Double(box.height) / 2 - side / 2)
        for y in max(Int(originY), 0)..<min(Int(originY + side), scene.height) {
            for x in max(Int(originX), 0)..<min(Int(originX + side), scene.width) {
                let sx = min(Int((Double(x) - originX) / side * Double(source.width)), source.width - 1)
                let sy = min(Int((Double(y) - originY) / side * Double(source.height)), source.height - 1)
                let from = (sy * source.width + sx) * 3, to = (y * scene.width + x) * 3
                canvas.pixels.replaceSubrange(to..<to + 3, with: source.pixels[from..<from + 3])
            }
        }
    }
    return JPEGFactory.jpeg(canvas, orientation: scene.orientation)
}
