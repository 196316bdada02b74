@testable import FaceClusterKit
import Foundation
import Testing

@Suite("Rekognition adapters (scripted transport)")
struct RekognitionAdapterTests {
    static let fixtures = RekognitionShapesTests.root

    static func fixture(_ name: String) throws -> Data { try Data(contentsOf: fixtures.appendingPathComponent(name)) }

    static func error(_ code: String, status: Int = 400) -> HTTPResponse {
        HTTPResponse(status: status, body: Data(#"{"__type":"\#(code)","Message":"from the test"}"#.utf8))
    }

    static func index(_ transport: ScriptedTransport, buckets: Set<String> = []) -> RekognitionFaceIndex {
        let client = AWSClient(
            configuration: AWSConfiguration(region: "eu-west-1"), credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s")),
            transport: transport, retryPolicy: RetryPolicy(sleep: { _ in }))
        return RekognitionFaceIndex(rekognition: RekognitionClient(client: client), collectionID: "people", s3Buckets: buckets)
    }

    static func body(_ request: HTTPRequest) throws -> [String: Any] { try JSONSerialization.jsonObject(with: request.body) as! [String: Any] }

    @Test("IndexFaces: photos in known buckets go by S3 reference, faces and unindexed reasons come back")
    func indexFaces() async throws {
        let transport = ScriptedTransport([.success(HTTPResponse(status: 200, body: try Self.fixture("IndexFaces.response.json")))])
        let result = try await Self.index(transport, buckets: ["raw-bucket"]).indexFaces(
            in: ImageInput(data: Data([1, 2, 3]), reference: PhotoReference(store: "raw-bucket", key: "uploads/a b.jpg", versionID: "v2")),
            externalImageID: "ph_abc", options: IndexOptions(maxFaces: 100, qualityFilter: .auto))
        #expect(result.indexed.first?.faceID == FaceID(rawValue: "ff43d742-0c13-5d16-a3e8-03d3f58e980b"))
        #expect(result.indexed.first?.face.boundingBox.width == 0.25)
        #expect(result.indexed.first?.face.landmarks.count == 5)
        let body = try Self.body(transport.sent[0])
        let image = body["Image"] as! [String: Any]
        #expect((image["S3Object"] as? [String: String]) == ["Bucket": "raw-bucket", "Name": "uploads/a b.jpg", "Version": "v2"])
        #expect(image["Bytes"] == nil)
        #expect(body["ExternalImageId"] as? String == "ph_abc" && body["QualityFilter"] as? String == "AUTO" && body["MaxFaces"] as? Int == 100)
    }

    @Test("images outside known buckets go as bytes; SearchFaces returns matches with their external ids")
    func bytesAndSearch() async throws {
        let transport = ScriptedTransport([
            .success(HTTPResponse(status: 200, body: try Self.fixture("SearchFacesByImage.response.json"))),
            .success(HTTPResponse(status: 200, body: try Self.fixture("SearchFaces.response.json"))),
        ])
        let index = Self.index(transport)
        let byImage = try await index.searchFaces(byImage: ImageInput(data: Data("jpeg".utf8)), options: SearchOptions(threshold: 90))
        #expect(byImage.searchedFace != nil && !byImage.matches.isEmpty)
        #expect((try Self.body(transport.sent[0])["Image"] as! [String: Any])["Bytes"] as? String == Data("jpeg".utf8).base64EncodedString())
        let matches = try await index.searchFaces(matching: FaceID(rawValue: "70008e50-75e4-55d0-8e80-363fb73b3a14"), options: SearchOptions(threshold: 90, maxMatches: 5))
        #expect(!matches.isEmpty && matches.allSatisfy { $0.similarity > 0 })
        let search = try Self.body(transport.sent[1])
        #expect(search["FaceMatchThreshold"] as? Double == 90 && search["MaxFaces"] as? Int == 5)
    }

    @Test("errors: no face is an empty search; a missing collection is a set-up error naming it; bad images are permanent")
    func errors() async throws {
        let empty = try await Self.index(ScriptedTransport([.success(Self.error("InvalidParameterException"))]))
            .searchFaces(byImage: ImageInput(data: Data([1])), options: SearchOptions(threshold: 90))
        #expect(empty.searchedFace == nil && empty.matches.isEmpty)
        do {
            _ = try await Self.index(ScriptedTransport([.success(Self.error("ResourceNotFoundException"))]))
                .searchFaces(matching: FaceID(rawValue: "x"), options: SearchOptions(threshold: 90))
            Issue.record("expected a set-up error")
        } catch FaceServiceError.setup(let detail) {
            #expect(detail.contains("'people'") && detail.contains("eu-west-1"))
        }
        await #expect(throws: FaceServiceError.self) {
            try await Self.index(ScriptedTransport([.success(Self.error("InvalidImageFormatException"))]))
                .indexFaces(in: ImageInput(data: Data([1])), externalImageID: "x", options: IndexOptions())
        }
        let failure = PhotoFailure(FaceServiceError.imageTooLarge(detail: "x"))
        #expect(failure.code == .imageTooLarge && !failure.retryable)
        let throttled = ScriptedTransport(Array(repeating: .success(Self.error("ThrottlingException")), count: 3))
        do {
            _ = try await Self.index(throttled).searchFaces(matching: FaceID(rawValue: "x"), options: SearchOptions(threshold: 90))
        } catch let error as AWSServiceError {
            #expect(error.isThrottling && PhotoFailure(error).retryable)
        }
        #expect(throttled.sent.count == 3)
    }

    @Test("collection set-up is idempotent")
    func createCollection() async throws {
        let transport = ScriptedTransport([
            .success(HTTPResponse(status: 200, body: try Self.fixture("CreateCollection.response.json"))),
            .success(Self.error("ResourceAlreadyExistsException")),
        ])
        let index = Self.index(transport)
        try await index.createCollection()
        try await index.createCollection()
        #expect(transport.sent.count == 2)
    }

    @Test("a photo over 5 MB is re-encoded smaller and upright, not rejected")
    func shrink() async throws {
        var generator = SplitMix64(seed: 3)
        let noise = PixelBuffer(width: 3000, height: 2000, pixels: (0..<(3000 * 2000 * 3)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let big = JPEGFactory.jpeg(noise, orientation: .right, quality: 100)
        #expect(big.count > 5 * 1024 * 1024)
        let image = try await RekognitionImages(buckets: []).image(ImageInput(data: big))
        let small = try #require(image.Bytes)
        #expect(small.count <= 5 * 1024 * 1024)
        let info = try TurboJPEGThumbnailCropper().imageInfo(of: small)
        // Displayed 3000×2000 (stored portrait, tag 6): re-encoded upright at half scale, no tag left.
        #expect(info.orientation == .up && info.width == 1500 && info.height == 1000, "\(info.width)×\(info.height)")
    }

    @Test("DetectFaces: faces come back largest first")
    func detect() async throws {
        let transport = ScriptedTransport([.success(HTTPResponse(status: 200, body: try Self.fixture("DetectFaces.response.json")))])
        let detector = RekognitionFaceDetector(rekognition: Self.index(transport).rekognition)
        let faces = try await detector.detectFaces(in: ImageInput(data: Data([1])))
        #expect(!faces.isEmpty)
        #expect(faces == faces.sorted { $0.boundingBox.width * $0.boundingBox.height > $1.boundingBox.width * $1.boundingBox.height })
        #expect(try Self.body(transport.sent[0])["Attributes"] as? [String] == ["DEFAULT"])
    }
}
