@testable import FaceClusterKit
import Foundation
import Testing

/// The Rekognition fixtures (botocore examples and AWS SDK model examples, Fixtures/rekognition): every request
/// and response decodes into our shapes and encodes back to the same JSON, so no field the fixtures carry is
/// lost or misnamed.
@Suite("Rekognition shapes")
struct RekognitionShapesTests {
    static let root = Bundle.module.url(forResource: "rekognition", withExtension: nil, subdirectory: "Fixtures")!

    struct Operation: Sendable, CustomTestStringConvertible {
        var name: String
        var roundTripRequest: @Sendable (Data) throws -> Data
        var roundTripResponse: @Sendable (Data) throws -> Data
        var testDescription: String { name }

        init<Request: Codable, Response: Codable>(_ name: String, _ request: Request.Type, _ response: Response.Type) {
            self.name = name
            roundTripRequest = { try JSONEncoder().encode(try JSONDecoder().decode(Request.self, from: $0)) }
            roundTripResponse = { try JSONEncoder().encode(try JSONDecoder().decode(Response.self, from: $0)) }
        }
    }

    static let operations: [Operation] = [
        Operation("CreateCollection", Rekognition.CreateCollectionRequest.self, Rekognition.CreateCollectionResponse.self),
        Operation("DeleteCollection", Rekognition.CollectionRequest.self, Rekognition.DeleteCollectionResponse.self),
        Operation("DetectFaces", Rekognition.DetectFacesRequest.self, Rekognition.DetectFacesResponse.self),
        Operation("IndexFaces", Rekognition.IndexFacesRequest.self, Rekognition.IndexFacesResponse.self),
        Operation("SearchFaces", Rekognition.SearchFacesRequest.self, Rekognition.SearchFacesResponse.self),
        Operation("SearchFacesByImage", Rekognition.SearchFacesByImageRequest.self, Rekognition.SearchFacesByImageResponse.self),
        Operation("ListFaces", Rekognition.ListFacesRequest.self, Rekognition.ListFacesResponse.self),
        Operation("DeleteFaces", Rekognition.DeleteFacesRequest.self, Rekognition.DeleteFacesResponse.self),
        Operation("CreateUser", Rekognition.CreateUserRequest.self, Rekognition.EmptyResponse.self),
        Operation("AssociateFaces", Rekognition.AssociateFacesRequest.self, Rekognition.AssociateFacesResponse.self),
        Operation("SearchUsers", Rekognition.SearchUsersRequest.self, Rekognition.SearchUsersResponse.self),
        Operation("SearchUsersByImage", Rekognition.SearchUsersByImageRequest.self, Rekognition.SearchUsersByImageResponse.self),
        Operation("DeleteUser", Rekognition.DeleteUserRequest.self, Rekognition.EmptyResponse.self),
    ]

    static func json(_ data: Data) throws -> NSObject { try JSONSerialization.jsonObject(with: data) as! NSObject }

    @Test("requests and responses round-trip through our shapes without losing a field", arguments: operations)
    func roundTrip(_ operation: Operation) throws {
        for (kind, transform) in [("request", operation.roundTripRequest), ("response", operation.roundTripResponse)] {
            let fixture = try Data(contentsOf: Self.root.appendingPathComponent("\(operation.name).\(kind).json"))
            #expect(try Self.json(transform(fixture)) == Self.json(fixture), "\(operation.name) \(kind)")
        }
    }

    @Test("the fields the adapters read decode to the fixture's values")
    func fieldsUsed() throws {
        let indexed = try JSONDecoder().decode(Rekognition.IndexFacesResponse.self, from: Data(contentsOf: Self.root.appendingPathComponent("IndexFaces.response.json")))
        let record = try #require(indexed.FaceRecords?.first)
        #expect(record.Face?.FaceId == "ff43d742-0c13-5d16-a3e8-03d3f58e980b")
        #expect(record.FaceDetail?.BoundingBox?.Width == 0.25)
        #expect(record.FaceDetail?.Confidence == 99.9991226196289)
        #expect(record.FaceDetail?.Quality?.Sharpness == 80)
        #expect(record.FaceDetail?.Landmarks?.first?.Type == "eyeLeft")
        let search = try JSONDecoder().decode(Rekognition.SearchFacesResponse.self, from: Data(contentsOf: Self.root.appendingPathComponent("SearchFaces.response.json")))
        #expect(search.FaceMatches?.allSatisfy { $0.Face?.FaceId != nil && ($0.Similarity ?? 0) > 0 } == true)
    }

    @Test("the client sends JSON 1.1 with the operation's target and decodes the answer")
    func wire() async throws {
        let answer = try Data(contentsOf: Self.root.appendingPathComponent("SearchFaces.response.json"))
        let transport = ScriptedTransport([.success(HTTPResponse(status: 200, body: answer))])
        let rekognition = RekognitionClient(client: AWSClient(
            configuration: AWSConfiguration(region: "eu-west-1"), credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s")),
            transport: transport))
        let response = try await rekognition.searchFaces(.init(CollectionId: "people", FaceId: "70008e50-75e4-55d0-8e80-363fb73b3a14", MaxFaces: 10, FaceMatchThreshold: 90))
        #expect(response.FaceMatches?.isEmpty == false)
        let sent = try #require(transport.sent.first)
        #expect(sent.url.absoluteString == "https://rekognition.eu-west-1.amazonaws.com/")
        #expect(sent.headers.contains { $0.name == "X-Amz-Target" && $0.value == "RekognitionService.SearchFaces" })
        #expect(sent.headers.contains { $0.name == "Content-Type" && $0.value == "application/x-amz-json-1.1" })
        #expect(sent.headers.first { $0.name == "Authorization" }?.value.contains("/eu-west-1/rekognition/aws4_request") == true)
    }
}
