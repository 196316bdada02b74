@testable import FaceClusterLambda
import Foundation
import Testing

@Suite("Lambda events: the fixtures parse")
struct LambdaEventTests {
    static let root = Bundle.module.url(forResource: "lambda-events", withExtension: nil, subdirectory: "Fixtures")!

    static func fixture(_ name: String) throws -> Data { try Data(contentsOf: root.appendingPathComponent(name)) }

    @Test("S3 notifications: keys arrive form-encoded (+ is a space), version and ETag are kept")
    func s3() throws {
        let event = try JSONDecoder().decode(S3Event.self, from: try Self.fixture("example-s3-event.json"))
        let object = try #require(event.Records.first?.s3.object)
        #expect(object.decodedKey == "Happy Face.jpg" && object.versionId == "version" && object.size == 1024)
        #expect(event.Records[0].s3.bucket.name == "sourcebucket" && event.Records[0].eventName == "ObjectCreated:Put")
        let decoded = try JSONDecoder().decode(S3Event.self, from: try Self.fixture("example-s3-event-with-decoded.json"))
        #expect(decoded.Records.count == 1)
        // Captured from moto for the key `photos/my photo+1 (ü).jpg`.
        let moto = try JSONDecoder().decode(S3Event.self, from: try Self.fixture("moto-s3-objectcreated-via-sqs.json"))
        #expect(moto.Records[0].s3.object.decodedKey == "photos/my photo+1 (ü).jpg")
    }

    @Test("SQS batches and the partial batch response")
    func sqs() throws {
        let event = try JSONDecoder().decode(SQSEvent.self, from: try Self.fixture("example-sqs-event.json"))
        #expect(event.Records.map(\.messageId) == ["MessageID_1"] && event.Records[0].eventSource == "aws:sqs")
        let response = try JSONDecoder().decode(SQSBatchResponse.self, from: try Self.fixture("example-sqs-batch-response.json"))
        #expect(response.batchItemFailures.map(\.itemIdentifier) == ["id2", "id4"])
        let encoded = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(response)) as? NSDictionary
        #expect(encoded == (try JSONSerialization.jsonObject(with: try Self.fixture("example-sqs-batch-response.json")) as? NSDictionary))
    }

    @Test("API Gateway HTTP API requests (payload 2.0), every authorizer variant", arguments: [
        "example-apigw-v2-request-iam.json", "example-apigw-v2-request-jwt-authorizer.json",
        "example-apigw-v2-request-lambda-authorizer.json", "example-apigw-v2-request-multi-value-parameters.json",
        "example-apigw-v2-request-no-authorizer.json",
    ])
    func apiGateway(name: String) throws {
        let request = try JSONDecoder().decode(APIGatewayV2Request.self, from: try Self.fixture(name))
        #expect(request.rawPath.hasPrefix("/") && !request.requestContext.requestId.isEmpty)
        #expect(["GET", "POST"].contains(request.requestContext.http.method))
        if name.contains("iam") {
            #expect(request.queryStringParameters?["parameter1"] == "value1,value2")
            #expect(request.bodyData.map { String(decoding: $0, as: UTF8.self) } == "{\r\n\t\"a\": 1\r\n}")
        }
    }
}
