import Crypto
@testable import FaceClusterKit
import Foundation
import Testing

/// Random requests signed by FaceClusterKit and by botocore (AWS's own SDK, run as a subprocess) must carry
/// the same Authorization header: S3 keys with every awkward character, random queries, paths that a
/// double-encoding service normalises, header whitespace, bodies, session tokens.
@Suite("SigV4: random requests against botocore")
struct SigV4PropertyTests {
    static let alphabet: [String] = Array("abcXYZ019-._~ +%=&?#!$'()*,;:@[]\"<>\\^`{|}").map(String.init)
        + ["ü", "写", "真", "é", "🙂", "\u{00A0}", "/", "//", "..", "."]

    struct Case {
        var service: String
        var method: String
        var host: String
        var path: String
        var query: [(name: String, value: String)]
        var headers: [(name: String, value: String)]
        var body: String
        var token: String?
    }

    static func randomText(_ generator: inout SplitMix64, length: ClosedRange<Int>) -> String {
        (0..<Int.random(in: length, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }.joined()
    }

    static func makeCase(_ generator: inout SplitMix64) -> Case {
        let service = ["s3", "s3", "dynamodb", "service"].randomElement(using: &generator)!
        var query: [(name: String, value: String)] = []
        for _ in 0..<Int.random(in: 0...3, using: &generator) {
            query.append((randomText(&generator, length: 1...6).replacingOccurrences(of: "/", with: "s"), randomText(&generator, length: 0...8)))
        }
        let path: String
        if service == "s3" {
            let key = randomText(&generator, length: 1...20)
            path = "/bucket/" + URIEncoding.encode(key, keepingSlashes: true)
        } else {
            // A wire path (encoded once) that may hold dot segments and repeated slashes.
            path = "/" + (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                [".", "..", "", URIEncoding.encode(randomText(&generator, length: 1...5).replacingOccurrences(of: "/", with: "x"))].randomElement(using: &generator)!
            }.joined(separator: "/")
        }
        var headers: [(name: String, value: String)] = [("Content-Type", "application/x-amz-json-1.0")]
        if Bool.random(using: &generator) { headers.append(("X-Custom-Header", "  spaced   value \t here  ")) }
        if service == "dynamodb" { headers.append(("X-Amz-Target", "DynamoDB_20120810.GetItem")) }
        return Case(
            service: service, method: ["GET", "PUT", "POST", "DELETE"].randomElement(using: &generator)!,
            host: service == "s3" ? "s3.eu-west-1.amazonaws.com" : "\(service).eu-west-1.amazonaws.com",
            path: path, query: query, headers: headers, body: randomText(&generator, length: 0...40),
            token: Bool.random(using: &generator) ? "FwoGZXIvYXdzE/token+with=chars" : nil)
    }

    @Test("300 random requests sign exactly as botocore signs them")
    func againstBotocore() async throws {
        var generator = SplitMix64(seed: 20261127)
        let cases = (0..<300).map { _ in Self.makeCase(&generator) }
        let date = try #require(AWSDate.parseAmzDate("20261127T213900Z"))
        var requests: [[String: Any]] = []
        var ours: [String] = []
        for item in cases {
            let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: item.token)
            let signer = SigV4Signer(credentials: credentials, region: "eu-west-1", service: item.service)
            let bodyHash = SHA256.hash(data: Data(item.body.utf8)).hexString
            let request = SignableRequest(method: item.method, host: item.host, path: item.path, query: item.query, headers: item.headers)
            ours.append(try #require(signer.signatureHeaders(for: request, payloadHash: bodyHash, date: date).first { $0.name == "Authorization" }).value)
            var headers = Dictionary(item.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
            if item.service == "s3" { headers["X-Amz-Content-SHA256"] = bodyHash }
            let queryString = SigV4Signer.queryString(item.query)
            var entry: [String: Any] = [
                "service": item.service, "region": "eu-west-1", "access_key_id": credentials.accessKeyID,
                "secret_access_key": credentials.secretAccessKey, "method": item.method,
                "url": "https://\(item.host)\(item.path)" + (queryString.isEmpty ? "" : "?" + queryString),
                "headers": headers, "body": item.body, "amz_date": "20261127T213900Z",
            ]
            if let token = item.token { entry["session_token"] = token }
            requests.append(entry)
        }
        let theirs = try await Self.botocore(requests)
        try #require(theirs.count == ours.count)
        for (index, (mine, reference)) in zip(ours, theirs).enumerated() where mine != reference {
            Issue.record("case \(index) \(cases[index].service) \(cases[index].path) \(cases[index].query): ours \(mine) botocore \(reference)")
        }
    }

    @Test("percent-encoding round-trips any text and leaves only unreserved characters and %XX")
    func encodingRoundTrip() {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let text = Self.randomText(&generator, length: 0...30)
            let encoded = URIEncoding.encode(text)
            #expect(URIEncoding.decode(encoded) == text)
            #expect(encoded.utf8.allSatisfy { URIEncoding.isUnreserved($0) || $0 == 0x25 || Array("0123456789ABCDEF".utf8).contains($0) })
            #expect(URIEncoding.decode(URIEncoding.encode(text, keepingSlashes: true)) == text)
        }
        #expect(URIEncoding.decode("red+flower.jpg", plusAsSpace: true) == "red flower.jpg")
        #expect(URIEncoding.decode("a%2Bb", plusAsSpace: true) == "a+b")
    }

    /// Signatures from botocore (Fixtures/botocore_sign.py); fails (not skips) when botocore is missing.
    static func botocore(_ requests: [[String: Any]]) async throws -> [String] {
        guard let output = try await PythonScript.run("botocore_sign", input: try JSONSerialization.data(withJSONObject: requests)) else { return [] }
        return try JSONDecoder().decode([String].self, from: output)
    }
}
