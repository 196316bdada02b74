import Crypto
@testable import FaceClusterKit
import Foundation
import Testing

/// The official AWS SigV4 test suite (awslabs/aws-c-auth, Apache-2.0), copied into Fixtures/sigv4-test-suite.
@Suite("SigV4: the official AWS test suite")
struct SigV4SuiteTests {
    static let root = Bundle.module.url(forResource: "v4", withExtension: nil, subdirectory: "Fixtures/sigv4-test-suite")!
    static let cases: [String] = (try? FileManager.default.contentsOfDirectory(atPath: root.path).sorted()) ?? []

    struct Context: Decodable {
        struct Credentials: Decodable {
            var access_key_id: String
            var secret_access_key: String
            var token: String?
        }
        var credentials: Credentials
        var region: String
        var service: String
        var normalize: Bool
        var sign_body: Bool
        var omit_session_token: Bool?
        var timestamp: String
        var expiration_in_seconds: Int
    }

    /// A case's request.txt: method, wire path, decoded query, headers (folded lines joined), body.
    static func load(_ name: String) throws -> (Context, SignableRequest, Data) {
        let folder = root.appendingPathComponent(name)
        let context = try JSONDecoder().decode(Context.self, from: Data(contentsOf: folder.appendingPathComponent("context.json")))
        let text = try String(contentsOf: folder.appendingPathComponent("request.txt"), encoding: .utf8)
        let (head, body) = text.range(of: "\n\n").map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) } ?? (text, "")
        var lines = head.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        let (path, queryText) = target.range(of: "?").map { (String(target[..<$0.lowerBound]), String(target[$0.upperBound...])) } ?? (target, "")
        let query = queryText.isEmpty ? [] : queryText.components(separatedBy: "&").map { pair -> (name: String, value: String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            return (URIEncoding.decode(parts[0]), URIEncoding.decode(parts.count > 1 ? parts[1] : ""))
        }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t" {
                headers[headers.count - 1].value += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        let host = headers.first { $0.name.lowercased() == "host" }?.value ?? ""
        return (context, SignableRequest(method: method, host: host, path: path, query: query, headers: headers), Data(body.utf8))
    }

    static func signer(_ context: Context) -> SigV4Signer {
        SigV4Signer(
            credentials: AWSCredentials(
                accessKeyID: context.credentials.access_key_id, secretAccessKey: context.credentials.secret_access_key,
                sessionToken: context.credentials.token),
            region: context.region, service: context.service,
            pathRules: .init(normalize: context.normalize, encodeAgain: true), sendsContentHash: context.sign_body,
            omitsSessionTokenFromSignature: context.omit_session_token ?? false)
    }

    static func expected(_ name: String, _ file: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(name).appendingPathComponent(file), encoding: .utf8)
    }

    @Test("the suite is there: 38 cases")
    func suitePresent() { #expect(Self.cases.count == 38) }

    @Test("header signing: canonical request, string to sign and signature", arguments: cases)
    func headerSigning(_ name: String) throws {
        let (context, request, body) = try Self.load(name)
        let signer = Self.signer(context)
        let date = try #require(AWSDate.parseISO8601(context.timestamp))
        let payloadHash = context.sign_body ? SHA256.hash(data: body).hexString : SigV4Signer.emptyPayloadHash
        var signed = request
        signed.headers.append(("X-Amz-Date", AWSDate.amzDate(date)))
        if context.sign_body { signed.headers.append(("X-Amz-Content-SHA256", payloadHash)) }
        if let token = context.credentials.token, !(context.omit_session_token ?? false) { signed.headers.append(("X-Amz-Security-Token", token)) }
        let (canonical, _) = signer.canonicalRequest(signed, payloadHash: payloadHash)
        #expect(canonical == (try Self.expected(name, "header-canonical-request.txt")))
        #expect(signer.stringToSign(canonicalRequest: canonical, amzDate: AWSDate.amzDate(date)) == (try Self.expected(name, "header-string-to-sign.txt")))
        let authorization = signer.signatureHeaders(for: request, payloadHash: payloadHash, date: date).first { $0.name == "Authorization" }?.value ?? ""
        #expect(authorization.hasSuffix("Signature=" + (try Self.expected(name, "header-signature.txt"))))
    }

    @Test("presigned query signing: signature", arguments: cases)
    func querySigning(_ name: String) throws {
        let (context, request, body) = try Self.load(name)
        let date = try #require(AWSDate.parseISO8601(context.timestamp))
        let payloadHash = context.sign_body ? SHA256.hash(data: body).hexString : SigV4Signer.emptyPayloadHash
        let query = Self.signer(context).presignedQuery(
            for: request, expiresIn: context.expiration_in_seconds, payloadHash: payloadHash, date: date)
        #expect(query.last?.name == "X-Amz-Signature")
        #expect(query.last?.value == (try Self.expected(name, "query-signature.txt")))
    }
}

/// botocore's vectors (Fixtures/sigv4-botocore): S3 paths and presigning, JSON services, session tokens.
@Suite("SigV4: botocore vectors")
struct SigV4BotocoreTests {
    static let root = Bundle.module.url(forResource: "sigv4-botocore", withExtension: nil, subdirectory: "Fixtures")!
    static let vectors: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])
        .filter { $0.hasSuffix(".json") }.sorted()

    struct Vector: Decodable {
        struct Input: Decodable {
            var method: String
            var url: String
            var headers: [String: String]?
            var body_utf8: String?
        }
        var service: String
        var region: String
        var access_key_id: String
        var secret_access_key: String
        var session_token: String?
        var request_time: String
        var expires: Int?
        var input: Input
        var canonical_request: String?
        var signature: String?
        var presigned_url: String?
        var signed_request: Input?
    }

    @Test("all 12 vectors are there")
    func present() { #expect(Self.vectors.count == 12) }

    @Test("every vector signs as botocore signed it", arguments: vectors)
    func vector(_ file: String) throws {
        let vector = try JSONDecoder().decode(Vector.self, from: Data(contentsOf: Self.root.appendingPathComponent(file)))
        let url = try #require(URLComponents(string: vector.input.url))
        let date = try #require(AWSDate.parseAmzDate(vector.request_time))
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: vector.access_key_id, secretAccessKey: vector.secret_access_key, sessionToken: vector.session_token),
            region: vector.region, service: vector.service)
        let query = (url.percentEncodedQueryItems ?? []).map { (name: URIEncoding.decode($0.name), value: URIEncoding.decode($0.value ?? "")) }
        var headers = (vector.input.headers ?? [:]).map { (name: $0.key, value: $0.value) }
        let body = Data((vector.input.body_utf8 ?? "").utf8)
        var payloadHash = SHA256.hash(data: body).hexString
        // S3 signs the hash it sends in X-Amz-Content-SHA256 (the body's, or UNSIGNED-PAYLOAD).
        if let sent = (vector.signed_request?.headers ?? [:]).first(where: { $0.key.lowercased() == "x-amz-content-sha256" }) {
            payloadHash = sent.value
        }
        headers.removeAll { $0.name.lowercased() == "x-amz-content-sha256" }
        let request = SignableRequest(method: vector.input.method, host: url.host!, path: url.percentEncodedPath, query: query, headers: headers)
        if let presigned = vector.presigned_url, let expires = vector.expires {
            let signedQuery = signer.presignedQuery(for: request, expiresIn: expires, payloadHash: SigV4Signer.unsignedPayload, date: date)
            #expect("https://\(url.host!)\(url.percentEncodedPath)?" + SigV4Signer.queryString(signedQuery) == presigned)
        } else {
            let added = signer.signatureHeaders(for: request, payloadHash: payloadHash, date: date)
            var signed = request
            signed.headers += added.filter { $0.name != "Authorization" }
            #expect(signer.canonicalRequest(signed, payloadHash: payloadHash).0 == vector.canonical_request)
            #expect(added.first { $0.name == "Authorization" }?.value.hasSuffix("Signature=\(vector.signature ?? "")") == true)
        }
    }

    @Test("AWS's published S3 examples")
    func publishedExamples() throws {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "s3")
        let date = try #require(AWSDate.parseISO8601("2013-05-24T00:00:00Z"))
        let request = SignableRequest(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt")
        let presigned = signer.presignedQuery(for: request, expiresIn: 86400, payloadHash: SigV4Signer.unsignedPayload, date: date)
        #expect(presigned.last?.value == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        var ranged = request
        ranged.headers = [("Range", "bytes=0-9")]
        let headers = signer.signatureHeaders(for: ranged, payloadHash: SigV4Signer.emptyPayloadHash, date: date)
        #expect(headers.first { $0.name == "Authorization" }?.value.hasSuffix("Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") == true)
    }

    @Test("credentials never print their secret or token")
    func redaction() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG", sessionToken: "TOKEN123")
        for text in [credentials.description, String(reflecting: credentials), "\(credentials)"] {
            #expect(!text.contains("wJalrXUtnFEMI") && !text.contains("TOKEN123"))
            #expect(text.contains("AKIDEXAMPLE"))
        }
    }
}
