@testable import FaceClusterKit
import Foundation
import Synchronization
import Testing

@Suite("AWS client: retries and errors")
struct RetryTests {
    static func throttled() -> HTTPResponse {
        HTTPResponse(status: 400, headers: [("x-amzn-RequestId", "req-1")], body: Data(#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}"#.utf8))
    }

    final class Waits: Sendable {
        let log = Mutex<[Duration]>([])
        var all: [Duration] { log.withLock { $0 } }
    }

    static func client(_ transport: ScriptedTransport, budget: RetryBudget = RetryBudget(), waits: Waits = Waits()) -> AWSClient {
        let policy = RetryPolicy(budget: budget, sleep: { duration in waits.log.withLock { $0.append(duration) } }, jitter: { 0.5 })
        return AWSClient(
            configuration: AWSConfiguration(region: "eu-west-1", endpoints: ["dynamodb": URL(string: "http://127.0.0.1:9")!]),
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret")),
            transport: transport, retryPolicy: policy)
    }

    @Test("throttled twice, then success: 3 attempts, full-jitter backoff 0.5 s then 1 s, each attempt signed anew")
    func throttledThenSuccess() async throws {
        let transport = ScriptedTransport([.success(Self.throttled()), .success(Self.throttled()), .success(HTTPResponse(status: 200, body: Data("{}".utf8)))])
        let waits = Waits()
        let budget = RetryBudget()
        let response = try await Self.client(transport, budget: budget, waits: waits).send(service: "dynamodb", method: "POST", path: "/", body: Data("{}".utf8))
        #expect(response.status == 200)
        #expect(transport.sent.count == 3)
        #expect(waits.all == [.milliseconds(500), .seconds(1)])
        #expect(transport.sent.map { $0.headers.first { $0.name == "amz-sdk-request" }?.value } == ["attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"])
        #expect(Set(transport.sent.map { $0.headers.first { $0.name == "amz-sdk-invocation-id" }!.value }).count == 1)
        #expect(transport.sent.allSatisfy { $0.headers.contains { $0.name == "Authorization" } })
        #expect(budget.available == RetryBudget.capacity - 5, "two retries cost 10, the success refunds the last 5")
    }

    @Test("three throttles: the error comes back typed, with code, message and request id")
    func attemptsExhausted() async throws {
        let transport = ScriptedTransport(Array(repeating: .success(Self.throttled()), count: 5))
        do {
            _ = try await Self.client(transport).send(service: "dynamodb", method: "POST", path: "/")
            Issue.record("expected a throttling error")
        } catch let error as AWSServiceError {
            #expect(error.code == "ThrottlingException" && error.message == "Rate exceeded" && error.requestID == "req-1")
            #expect(error.isThrottling && error.isRetryable)
        }
        #expect(transport.sent.count == 3)
    }

    @Test("a non-retryable error fails at once")
    func notRetryable() async throws {
        let conditional = HTTPResponse(status: 400, body: Data(#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","Message":"The conditional request failed"}"#.utf8))
        let transport = ScriptedTransport([.success(conditional), .success(HTTPResponse(status: 200))])
        await #expect(throws: AWSServiceError(service: "dynamodb", code: "ConditionalCheckFailedException", message: "The conditional request failed", statusCode: 400)) {
            try await Self.client(transport).send(service: "dynamodb", method: "POST", path: "/")
        }
        #expect(transport.sent.count == 1)
    }

    @Test("timeouts are retried at 10 tokens each; an empty budget stops retrying")
    func timeoutsAndBudget() async throws {
        let transport = ScriptedTransport([.failure(.timedOut(after: .seconds(1))), .success(HTTPResponse(status: 200))])
        let budget = RetryBudget()
        _ = try await Self.client(transport, budget: budget).send(service: "dynamodb", method: "POST", path: "/")
        #expect(transport.sent.count == 2)
        #expect(budget.available == RetryBudget.capacity)

        let starved = RetryBudget(tokens: 4)
        let failing = ScriptedTransport([.success(HTTPResponse(status: 503)), .success(HTTPResponse(status: 200))])
        await #expect(throws: AWSServiceError.self) { try await Self.client(failing, budget: starved).send(service: "dynamodb", method: "POST", path: "/") }
        #expect(failing.sent.count == 1, "4 tokens cannot pay for a retry (5)")

        let down = ScriptedTransport(Array(repeating: .failure(.connectionFailed("refused")), count: 3))
        await #expect(throws: HTTPTransportError.connectionFailed("refused")) { try await Self.client(down).send(service: "dynamodb", method: "POST", path: "/") }
        #expect(down.sent.count == 3)
    }

    @Test("backoff is full jitter on 2^(n−1) seconds, capped at 20 s")
    func backoff() {
        let policy = RetryPolicy(jitter: { 0.999 })
        #expect(policy.delay(beforeRetry: 1) < .seconds(1))
        #expect(policy.delay(beforeRetry: 3) > .seconds(3.9) && policy.delay(beforeRetry: 3) < .seconds(4))
        #expect(policy.delay(beforeRetry: 9) <= .seconds(20))
        #expect(RetryPolicy(jitter: { 0 }).delay(beforeRetry: 2) == .zero)
    }

    @Test("errors of every protocol parse to code, message and request id", arguments: [
        (HTTPResponse(status: 400, body: Data(#"{"__type":"InvalidParameterException","Message":"Request has invalid parameters"}"#.utf8)), "InvalidParameterException", "Request has invalid parameters", nil as String?),
        (HTTPResponse(status: 400, headers: [("x-amzn-RequestId", "abc")], body: Data(#"{"__type":"com.amazon.coral.validate#ValidationException","message":"bad"}"#.utf8)), "ValidationException", "bad", "abc"),
        (HTTPResponse(status: 400, body: Data(#"{"__type":"com.amazon.coral.service#InvalidSignatureException:http://internal.amazon.com/","message":"x"}"#.utf8)), "InvalidSignatureException", "x", nil),
        (HTTPResponse(status: 403, body: Data("<?xml version=\"1.0\"?><ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error><RequestId>moto-1</RequestId></ErrorResponse>".utf8)), "SignatureDoesNotMatch", "The request signature we calculated does not match", "moto-1"),
        (HTTPResponse(status: 404, headers: [("x-amz-request-id", "s3-req")], body: Data("<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a &amp; b.jpg</Key></Error>".utf8)), "NoSuchKey", "The specified key does not exist.", "s3-req"),
        (HTTPResponse(status: 403, headers: [("x-amzn-requestid", "moto-2")], body: Data("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>Check your key</Message><Type>Sender</Type></Error></Errors></ErrorResponse>".utf8)), "SignatureDoesNotMatch", "Check your key", "moto-2"),
        (HTTPResponse(status: 404), "NotFound", "", nil),
        (HTTPResponse(status: 403), "Forbidden", "", nil),
    ])
    func parsing(_ response: HTTPResponse, _ code: String, _ message: String, _ requestID: String?) {
        let error = AWSServiceError.parse(service: "test", response: response)
        #expect(error.code == code && error.message == message && error.requestID == requestID)
    }

    @Test("S3 listings parse with url-encoded keys; random keys survive XML escaping and url encoding")
    func listingParser() throws {
        var generator = SplitMix64(seed: 11)
        let alphabet = Array("ab +%&<>\"'=ü写🙂/~.-_\t")
        for _ in 0..<300 {
            let keys = (0..<Int.random(in: 0...5, using: &generator)).map { _ in
                String((0..<Int.random(in: 1...16, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            }
            // S3 form-encodes keys in encoding-type=url listings (a space may come as + or %20).
            let contents = keys.map { key in
                "<Contents><Key>\(XMLElement.escape(URIEncoding.encode(key, keepingSlashes: true).replacingOccurrences(of: "%20", with: "+")))</Key><LastModified>2026-11-27T21:39:00.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>12</Size></Contents>"
            }.joined()
            let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><IsTruncated>true</IsTruncated>\(contents)<EncodingType>url</EncodingType><NextContinuationToken>tok/en+=</NextContinuationToken></ListBucketResult>"
            let listing = try S3ListParser.parse(Data(xml.utf8))
            #expect(listing.objects.map(\.key) == keys)
            #expect(listing.continuationToken == "tok/en+=")
            #expect(listing.objects.allSatisfy { $0.eTag == "\"abc\"" && $0.size == 12 && $0.lastModified != nil })
        }
        for broken in ["", "<ListBucketResult>", "<a><b></a>", "<ListBucketResult><Key>&bogus;</Key></ListBucketResult>", "<Other/>"] {
            #expect(throws: XMLReaderError.self) { try S3ListParser.parse(Data(broken.utf8)) }
        }
    }

    @Test("HTTP dates parse")
    func httpDates() {
        #expect(HTTPDate.parse("Fri, 27 Nov 2026 21:39:00 GMT") == AWSDate.parseISO8601("2026-11-27T21:39:00Z"))
        #expect(HTTPDate.parse("yesterday") == nil)
    }
}
