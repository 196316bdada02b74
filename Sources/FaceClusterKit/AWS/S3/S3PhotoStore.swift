#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A ``PhotoStore`` on an S3 bucket.
///
/// Path-style URLs when an endpoint is configured (moto, LocalStack) or the bucket name has a dot;
/// virtual-hosted otherwise. Keys are encoded once, as S3 signs them, so spaces, `+`, `%`, unicode and `/`
/// round-trip. Puts ask for server-side encryption. Every call is one S3 request, retried under the client's
/// policy. A missing object is ``PhotoStoreError/notFound(key:)``; other failures are thrown as
/// ``AWSServiceError`` (code, message, request id) or ``HTTPTransportError``.
public struct S3PhotoStore: PhotoStore {
    public let bucket: String
    public let client: AWSClient
    /// `x-amz-server-side-encryption` on puts: `AES256` (S3-managed keys) by default, `aws:kms`, or `nil`.
    public var serverSideEncryption: String?
    /// How long one attempt may take, connecting included (AsyncHTTPClient keeps retrying a refused
    /// connection until then).
    public var requestTimeout: Duration = .seconds(30)

    public init(bucket: String, client: AWSClient, serverSideEncryption: String? = "AES256") {
        self.bucket = bucket
        self.client = client
        self.serverSideEncryption = serverSideEncryption
    }

    public var location: String { bucket }

    // MARK: Addressing

    var pathStyle: Bool { client.configuration.endpoints["s3"] != nil || bucket.contains(".") }

    var endpoint: URL {
        if pathStyle { return client.configuration.endpoint(for: "s3") }
        return URL(string: "https://\(bucket).s3.\(client.configuration.region).amazonaws.com")!
    }

    func path(for key: String) -> String {
        (pathStyle ? "/\(bucket)/" : "/") + URIEncoding.encode(key, keepingSlashes: true)
    }

    var bucketPath: String { pathStyle ? "/\(bucket)" : "/" }

    // MARK: PhotoStore

    public func get(_ key: String) async throws -> StoredObject {
        let response = try await send("GET", key: key)
        return StoredObject(info: info(key: key, response.headers, size: response.body.count), data: response.body)
    }

    @discardableResult
    public func put(_ data: Data, at key: String, contentType: String) async throws -> ObjectInfo {
        try PhotoStoreError.validate(key: key)
        var headers: [(name: String, value: String)] = [("Content-Type", contentType)]
        if let serverSideEncryption { headers.append(("x-amz-server-side-encryption", serverSideEncryption)) }
        let response = try await send("PUT", key: key, headers: headers, body: data)
        var info = info(key: key, response.headers, size: data.count)
        info.contentType = contentType
        return info
    }

    public func head(_ key: String) async throws -> ObjectInfo {
        let response = try await send("HEAD", key: key)
        return info(key: key, response.headers, size: nil)
    }

    public func delete(_ key: String) async throws {
        do {
            _ = try await send("DELETE", key: key)
        } catch PhotoStoreError.notFound {
            // Deleting nothing is success.
        }
    }

    public func list(prefix: String, continuationToken: String?, limit: Int) async throws -> ObjectListing {
        var query: [(name: String, value: String)] = [
            ("list-type", "2"), ("prefix", prefix), ("max-keys", String(min(max(limit, 1), 1000))), ("encoding-type", "url"),
        ]
        // S3's token travels inside our own, bound to this bucket and prefix: a forged or foreign token is
        // refused here instead of reaching S3.
        let listing = "s3-list:\(bucket):\(prefix)"
        if let continuationToken {
            do {
                guard let token = try PageCursor(rawValue: continuationToken).position(for: listing).first else {
                    throw PhotoStoreError.invalidContinuationToken
                }
                query.append(("continuation-token", token))
            } catch is MetadataStoreError {
                throw PhotoStoreError.invalidContinuationToken
            }
        }
        let response = try await client.send(service: "s3", method: "GET", endpoint: endpoint, path: bucketPath, query: query, timeout: requestTimeout)
        var page = try S3ListParser.parse(response.body)
        page.continuationToken = page.continuationToken.map { PageCursor(query: listing, position: [$0]).rawValue }
        return page
    }

    public func presignedURL(for key: String, expiresIn: Duration) async throws -> URL {
        try PhotoStoreError.validate(expiry: expiresIn)
        try PhotoStoreError.validate(key: key)
        let signer = SigV4Signer(credentials: try await client.credentials.credentials(), region: client.configuration.region, service: "s3")
        let base = endpoint
        let host = base.port.map { "\(base.host!):\($0)" } ?? base.host!
        let request = SignableRequest(method: "GET", host: host, path: path(for: key))
        let query = signer.presignedQuery(
            for: request, expiresIn: Int(expiresIn.components.seconds), payloadHash: SigV4Signer.unsignedPayload, date: client.clock.now())
        guard let url = URL(string: "\(base.scheme ?? "https")://\(host)\(request.path)?\(SigV4Signer.queryString(query))") else {
            throw PhotoStoreError.invalidKey(key, reason: "not representable in a URL")
        }
        return url
    }

    // MARK: Set-up

    /// Creates the bucket (in the client's region). Succeeds when this account already owns it.
    public func createBucket() async throws {
        let region = client.configuration.region
        let body = region == "us-east-1" ? Data() : Data(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>".utf8)
        do {
            _ = try await client.send(service: "s3", method: "PUT", endpoint: endpoint, path: bucketPath, body: body, timeout: requestTimeout)
        } catch let error as AWSServiceError where error.code == "BucketAlreadyOwnedByYou" {
            // Already there: set-up is idempotent.
        }
    }

    // MARK: Helpers

    private func send(_ method: String, key: String, headers: [(name: String, value: String)] = [], body: Data = Data()) async throws -> HTTPResponse {
        do {
            return try await client.send(
                service: "s3", method: method, endpoint: endpoint, path: path(for: key), headers: headers, body: body, timeout: requestTimeout)
        } catch let error as AWSServiceError where error.statusCode == 404 && ["NoSuchKey", "NotFound"].contains(error.code) {
            throw PhotoStoreError.notFound(key: key)
        }
    }

    private func info(key: String, _ headers: [(name: String, value: String)], size: Int?) -> ObjectInfo {
        let response = HTTPResponse(status: 200, headers: headers)
        return ObjectInfo(
            key: key, size: size ?? Int(response.header("Content-Length") ?? "") ?? 0, eTag: response.header("ETag") ?? "",
            contentType: response.header("Content-Type"), lastModified: response.header("Last-Modified").flatMap(HTTPDate.parse),
            versionID: response.header("x-amz-version-id"))
    }
}

/// ListObjectsV2 results, keys decoded from `encoding-type=url` (form-style: `+` is a space).
enum S3ListParser {
    static func parse(_ body: Data) throws -> ObjectListing {
        let root = try XMLElement.parse([UInt8](body))
        guard root.name == "ListBucketResult" else { throw XMLReaderError.malformed("expected ListBucketResult, got \(root.name)") }
        let encoded = root.value("EncodingType") == "url"
        let objects = root.children("Contents").compactMap { item -> ObjectInfo? in
            guard let rawKey = item.value("Key") else { return nil }
            return ObjectInfo(
                key: encoded ? URIEncoding.decode(rawKey, plusAsSpace: true) : rawKey, size: Int(item.value("Size") ?? "") ?? 0,
                eTag: item.value("ETag") ?? "", lastModified: item.value("LastModified").flatMap(AWSDate.parseISO8601))
        }
        let truncated = root.value("IsTruncated") == "true"
        return ObjectListing(objects: objects, continuationToken: truncated ? root.value("NextContinuationToken") : nil)
    }
}

/// HTTP dates (RFC 7231 IMF-fixdate), `Fri, 27 Nov 2026 21:39:00 GMT`, parsed by hand (no DateFormatter).
enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, let day = Int(parts[1]), let month = months.firstIndex(of: String(parts[2])), let year = Int(parts[3]) else { return nil }
        let iso = String(year).leftPadded(to: 4) + "-" + String(month + 1).leftPadded(to: 2) + "-" + String(day).leftPadded(to: 2) + "T" + parts[4] + "Z"
        return AWSDate.parseISO8601(iso)
    }
}

extension AWSServiceError: PhotoFailureConvertible {
    public var photoFailure: PhotoFailure {
        let code: FailureCode = isThrottling ? .throttled
            : isRetryable ? .serviceUnavailable
            : statusCode == 403 || isAuthentication ? .accessDenied
            : statusCode == 404 ? .objectNotFound
            : .internalError
        return PhotoFailure(code: code, message: description, retryable: isRetryable)
    }
}

extension HTTPTransportError: PhotoFailureConvertible {
    public var photoFailure: PhotoFailure { PhotoFailure(code: .serviceUnavailable, message: description, retryable: true) }
}

extension CredentialError: PhotoFailureConvertible {
    /// Missing credentials are a set-up problem; retrying after it is fixed helps.
    public var photoFailure: PhotoFailure { PhotoFailure(code: .setupError, message: description, retryable: true) }
}
