#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Crypto

/// A request as SigV4 sees it: the path as sent on the wire (percent-encoded once), the query as decoded
/// name–value pairs, and the headers to sign.
public struct SignableRequest: Sendable {
    public var method: String
    /// The `Host` header: the host, with `:port` when it is not the scheme's default.
    public var host: String
    /// The path as sent, already percent-encoded (S3 keys with ``URIEncoding``), starting with `/`.
    public var path: String
    /// Decoded query parameters; a bare key has an empty value.
    public var query: [(name: String, value: String)]
    /// Headers to sign besides `host` (which comes from ``host``).
    public var headers: [(name: String, value: String)]

    public init(method: String, host: String, path: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = []) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
    }
}

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`): header signing and presigned query URLs.
///
/// Passes the official AWS SigV4 test suite and botocore's vectors (see the tests). Costs four HMACs to derive
/// the signing key and one SHA-256 over the canonical request; the body hash is the caller's (it knows whether
/// the body is signed, `UNSIGNED-PAYLOAD`, or empty).
public struct SigV4Signer: Sendable {
    /// How the service canonicalises paths.
    public struct PathRules: Hashable, Sendable {
        /// Remove `.`/`..` segments and repeated slashes first.
        public var normalize: Bool
        /// Percent-encode the (already encoded) path once more. Every service but S3.
        public var encodeAgain: Bool

        /// Every service but S3.
        public static let standard = PathRules(normalize: true, encodeAgain: true)
        /// S3: the path exactly as sent, encoded once.
        public static let s3 = PathRules(normalize: false, encodeAgain: false)

        public init(normalize: Bool, encodeAgain: Bool) {
            self.normalize = normalize
            self.encodeAgain = encodeAgain
        }
    }

    /// The hash S3 accepts in place of the body's, for streamed or presigned requests.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of the empty body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Headers never signed (as botocore): proxies and HTTP clients may add or change them.
    static let unsignedHeaders: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id", "amz-sdk-invocation-id", "amz-sdk-request",
    ]

    public var credentials: AWSCredentials
    public var region: String
    public var service: String
    public var pathRules: PathRules
    /// Add `x-amz-content-sha256` to every request (S3 requires it).
    public var sendsContentHash: Bool
    /// Add the session token after signing instead of signing it (only a few STS-era services want that).
    public var omitsSessionTokenFromSignature: Bool

    public init(
        credentials: AWSCredentials, region: String, service: String, pathRules: PathRules? = nil,
        sendsContentHash: Bool? = nil, omitsSessionTokenFromSignature: Bool = false
    ) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.pathRules = pathRules ?? (service == "s3" ? .s3 : .standard)
        self.sendsContentHash = sendsContentHash ?? (service == "s3")
        self.omitsSessionTokenFromSignature = omitsSessionTokenFromSignature
    }

    // MARK: Header signing

    /// The headers to add to `request` so AWS accepts it: `X-Amz-Date`, `X-Amz-Security-Token` (with temporary
    /// credentials), `X-Amz-Content-SHA256` (S3) and `Authorization`.
    public func signatureHeaders(for request: SignableRequest, payloadHash: String, date: Date) -> [(name: String, value: String)] {
        let amzDate = AWSDate.amzDate(date)
        var added: [(name: String, value: String)] = [("X-Amz-Date", amzDate)]
        if sendsContentHash { added.append(("X-Amz-Content-SHA256", payloadHash)) }
        var signed = request
        signed.headers += added
        if let token = credentials.sessionToken, !omitsSessionTokenFromSignature { signed.headers.append(("X-Amz-Security-Token", token)) }
        let (canonical, signedHeaders) = canonicalRequest(signed, payloadHash: payloadHash)
        let signature = self.signature(canonicalRequest: canonical, amzDate: amzDate)
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        added.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(amzDate)), SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return added
    }

    // MARK: Checking

    /// The signature a request received by a server should carry, for a server that checks SigV4 (the local
    /// Rekognition endpoint): `request` holds exactly the headers its `SignedHeaders` names (`host` from
    /// ``SignableRequest/host``), `amzDate` its `X-Amz-Date`, `payloadHash` the SHA-256 of its body. Compare the
    /// result with the received one in constant time. Nothing is added: what was signed is what is checked.
    public func expectedSignature(ofReceived request: SignableRequest, payloadHash: String, amzDate: String) -> (signedHeaders: String, signature: String) {
        let (canonical, signedHeaders) = canonicalRequest(request, payloadHash: payloadHash)
        return (signedHeaders, signature(canonicalRequest: canonical, amzDate: amzDate))
    }

    // MARK: Presigning

    /// The query of a presigned URL for `request`, valid `expiresIn` seconds from `date`: the request's own
    /// parameters, then `X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`, `-SignedHeaders`, the session
    /// token when there is one, and `X-Amz-Signature` last. S3 presigns with ``unsignedPayload``.
    public func presignedQuery(for request: SignableRequest, expiresIn: Int, payloadHash: String, date: Date) -> [(name: String, value: String)] {
        let amzDate = AWSDate.amzDate(date)
        let signedHeaders = canonicalHeaders(request).names
        var query = request.query
        query += [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(amzDate))"),
            ("X-Amz-Date", amzDate), ("X-Amz-Expires", String(expiresIn)), ("X-Amz-SignedHeaders", signedHeaders),
        ]
        if let token = credentials.sessionToken, !omitsSessionTokenFromSignature { query.append(("X-Amz-Security-Token", token)) }
        var signed = request
        signed.query = query
        let (canonical, _) = canonicalRequest(signed, payloadHash: payloadHash)
        if let token = credentials.sessionToken, omitsSessionTokenFromSignature { query.append(("X-Amz-Security-Token", token)) }
        query.append(("X-Amz-Signature", signature(canonicalRequest: canonical, amzDate: amzDate)))
        return query
    }

    /// A query string with each name and value encoded as SigV4 encodes them, in the given order.
    public static func queryString(_ query: [(name: String, value: String)]) -> String {
        query.map { URIEncoding.encode($0.name) + "=" + URIEncoding.encode($0.value) }.joined(separator: "&")
    }

    // MARK: The algorithm

    func scope(_ amzDate: String) -> String { "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request" }

    /// The canonical request and its signed-header list.
    func canonicalRequest(_ request: SignableRequest, payloadHash: String) -> (String, String) {
        let headers = canonicalHeaders(request)
        let canonical = [
            request.method.uppercased(), canonicalPath(request.path), canonicalQuery(request.query),
            headers.block, headers.names, payloadHash,
        ].joined(separator: "\n")
        return (canonical, headers.names)
    }

    func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        let hash = SHA256.hash(data: Array(canonicalRequest.utf8)).hexString
        return "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope(amzDate))\n\(hash)"
    }

    func signature(canonicalRequest: String, amzDate: String) -> String {
        let key = signingKey(scopeDate: String(amzDate.prefix(8)))
        let toSign = stringToSign(canonicalRequest: canonicalRequest, amzDate: amzDate)
        return Data(HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: key)).hexString
    }

    func signingKey(scopeDate: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [scopeDate, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    func canonicalPath(_ path: String) -> String {
        var path = path.isEmpty ? "/" : path
        if pathRules.normalize { path = Self.removingDotSegments(path) }
        return pathRules.encodeAgain ? URIEncoding.encode(path, keepingSlashes: true) : path
    }

    func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (URIEncoding.encode($0.name), URIEncoding.encode($0.value)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Lower-case names, values trimmed with inner whitespace runs collapsed, duplicates joined with `,` in
    /// order, sorted by name.
    func canonicalHeaders(_ request: SignableRequest) -> (block: String, names: String) {
        var values: [String: [String]] = ["host": [request.host]]
        for (name, value) in request.headers {
            let lower = name.lowercased()
            guard lower != "host", !Self.unsignedHeaders.contains(lower) else { continue }
            values[lower, default: []].append(Self.collapsingWhitespace(value))
        }
        let names = values.keys.sorted()
        let block = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    static func collapsingWhitespace(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    /// RFC 3986 dot-segment removal, also dropping empty segments. As botocore does (and unlike RFC 3986,
    /// which turns `/a/.` into `/a/`), a trailing slash is kept only when the path ends with one; the random
    /// requests checked against botocore found this.
    static func removingDotSegments(_ path: String) -> String {
        var segments: [Substring] = []
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        for part in parts {
            switch part {
            case "", ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(part)
            }
        }
        let trailing = path.hasSuffix("/")
        let joined = "/" + segments.joined(separator: "/")
        return trailing && !segments.isEmpty ? joined + "/" : joined
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal (signatures, digests, content-addressed keys).
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        for byte in self { output += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]] }
        return String(decoding: output, as: UTF8.self)
    }
}

extension SHA256.Digest {
    var hexString: String { Array(self).hexString }
}
